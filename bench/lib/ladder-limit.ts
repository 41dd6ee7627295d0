/**
 * Which limit a ladder step of `npm run bench:media` met, and whether the ladder goes on (pure, tested).
 *
 * - server core: the server's CPU is at SATURATED of its core (it is pinned to one);
 * - load core: the load generator's core is at SATURATED: past it the figures measure the load
 *   generator, not the server, so the ladder stops there;
 * - admission: the server refused new viewers or shed admitted ones (onair's admission control);
 * - other work: other processes used OTHER_WORK % of a core or more meanwhile (a shared machine):
 *   the server and the load competed for their cores, so the step says little about either.
 *
 * The ladder goes on while at least `healthyStop` of the admitted viewers (not refused) are healthy:
 * a server that refuses the excess and keeps its audience healthy climbs on (that is what the issue's
 * 1.5x-the-ceiling goal measures), one whose whole audience suffers stops.
 */

/** Share of a core counted as saturated (% of one core). */
export const SATURATED = 90;
/** CPU of everything else on the machine (% of one core) from which a step is labelled 'other work'. */
export const OTHER_WORK = 50;

export interface StepFigures {
  viewers: number;
  healthy: number;
  serverCpuPercent: number | undefined;
  loadCpuPercent: number;
  refused: number;
  shed: number;
  /** CPU used by everything else on the machine meanwhile (% of one core). */
  otherCpuPercent?: number;
}

export interface StepVerdict {
  /** healthy / (viewers - refused); 0 when every viewer was refused. Shed viewers count as unhealthy. */
  admittedHealthyShare: number;
  /** healthy / (viewers - refused - shed): the audience the server kept; 0 when it kept nobody. */
  keptHealthyShare: number;
  /** The limits met at this step ('server core', 'load core', 'admission'), empty when none. */
  limits: string[];
  /** Why the ladder stops after this step; undefined when it goes on. */
  stop: string | undefined;
}

export function judgeStep(s: StepFigures, healthyStop: number): StepVerdict {
  const admitted = Math.max(0, s.viewers - s.refused);
  const admittedHealthyShare = admitted === 0 ? 0 : Math.min(1, s.healthy / admitted);
  const kept = Math.max(0, admitted - s.shed);
  const keptHealthyShare = kept === 0 ? 0 : Math.min(1, s.healthy / kept);
  const limits: string[] = [];
  const serverSat = s.serverCpuPercent !== undefined && s.serverCpuPercent >= SATURATED;
  if (serverSat) limits.push('server core');
  if (s.loadCpuPercent >= SATURATED) limits.push('load core');
  if (s.refused > 0 || s.shed > 0) limits.push('admission');
  const otherWork = (s.otherCpuPercent ?? 0) >= OTHER_WORK;
  if (otherWork) limits.push('other work');
  let stop: string | undefined;
  if (s.loadCpuPercent >= SATURATED) {
    stop = `load core saturated (${s.loadCpuPercent.toFixed(0)} %): further steps would measure the load generator`;
  } else if (admittedHealthyShare < healthyStop) {
    const why = serverSat ? `server core saturated (${s.serverCpuPercent!.toFixed(0)} %)` : 'server core not saturated';
    stop = `${(admittedHealthyShare * 100).toFixed(1)} % of admitted viewers healthy (< ${healthyStop * 100} %); ${why}${s.refused || s.shed ? `; admission refused ${s.refused}, shed ${s.shed}` : '; no admission control'}${otherWork ? `; other work on the machine took ${s.otherCpuPercent!.toFixed(0)} % of a core (shared machine: not the server's ceiling)` : ''}`;
  }
  return { admittedHealthyShare, keptHealthyShare, limits, stop };
}
