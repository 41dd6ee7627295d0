/**
 * Vendor audit results -> onair severity (seed 000: 轻度警告 / 中度暂停 / 重度永久封禁).
 *
 * Image audit (event_type 317) carries `suggestion` (Block | Review | Pass), `label` (the
 * highest-priority bad label: Porn, Terror, Polity, Illegal, Abuse, Ad, Sexy, ...), and `score`,
 * an array of 0..100 confidences. Audio audit (315) carries `HitFlag` (0/1), `Score` 0..100 and `label`.
 *
 *   pass    suggestion Pass, or HitFlag 0: logged only
 *   light   suggestion Review (the vendor is unsure), or an audio hit under 60: warning notice
 *   medium  suggestion Block, or an audio hit of 60+, unless severe: kick + publishing paused
 *   severe  a Block / hit with confidence >= 90 on a label the law treats as grave (porn, terror,
 *           politics, illegal): permanent publishing ban + stream key revoked
 * The vendor sends only suspicious results by default, so "pass" is rare.
 */
export type AuditSeverity = 'pass' | 'light' | 'medium' | 'severe';

export const SEVERE_LABELS = new Set(['porn', 'terror', 'polity', 'illegal']);
const SEVERE_SCORE = 90;
const MEDIUM_AUDIO_SCORE = 60;

export interface AuditVerdict {
  kind: 'image' | 'audio';
  severity: AuditSeverity;
  suggestion: string | null;
  label: string | null;
  score: number | null;
  evidenceUrl: string | null;
}

export function auditVerdict(eventType: 315 | 317, b: Record<string, unknown>): AuditVerdict {
  const label = typeof b.label === 'string' && b.label ? b.label : null;
  const grave = label !== null && SEVERE_LABELS.has(label.toLowerCase());
  const suggestion = typeof b.suggestion === 'string' && b.suggestion ? b.suggestion : null;
  const s = suggestion?.toLowerCase();
  if (eventType === 317) {
    const scores = Array.isArray(b.score) ? b.score.map(Number).filter(Number.isFinite) : [];
    const score = scores.length ? Math.max(...scores) : null;
    const severity: AuditSeverity = s === 'block'
      ? (grave && (score ?? 0) >= SEVERE_SCORE ? 'severe' : 'medium')
      : s === 'review' ? 'light' : 'pass';
    return { kind: 'image', severity, suggestion, label, score, evidenceUrl: typeof b.img === 'string' ? b.img : null };
  }
  const score = b.Score !== undefined ? Number(b.Score) : null;
  const hit = Number(b.HitFlag ?? (s === 'block' || s === 'review' ? 1 : 0)) === 1;
  let severity: AuditSeverity = 'pass';
  if (s === 'pass' || !hit) severity = 'pass';
  else if (grave && (score ?? 0) >= SEVERE_SCORE) severity = 'severe';
  else if (s === 'block' || (score ?? 0) >= MEDIUM_AUDIO_SCORE) severity = 'medium';
  else severity = 'light';
  return { kind: 'audio', severity, suggestion, label, score, evidenceUrl: typeof b.cdn_url === 'string' ? b.cdn_url : null };
}
