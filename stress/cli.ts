/**
 * `npm run stress -- --help`: the load-test tool for onair deployments (see stress/options.ts).
 * Progress and the live table go to stderr when --json is given, so stdout stays pure JSON.
 */
import { HELP, OptionsError, parseStressArgs } from './options.js';
import { RemoteTargetError } from './loopback.js';
import { runStress } from './run.js';
import { formatStressReport } from './report/stress-report.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseStressArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof OptionsError) {
      console.error(`stress: ${err.message}\n\n${HELP}`);
      return 2;
    }
    throw err;
  }
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  const log = options.json ? (l: string) => console.error(l) : (l: string) => console.log(l);
  try {
    const report = await runStress(options, log);
    if (options.json) console.log(JSON.stringify(report, null, 2));
    else console.log(`\n${formatStressReport(report)}`);
    return 0;
  } catch (err) {
    if (err instanceof RemoteTargetError) {
      console.error(`stress: ${err.message}`);
      return 2;
    }
    console.error(`stress: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
