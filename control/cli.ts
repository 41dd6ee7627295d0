import { createInterface } from 'node:readline';
import { loadConfig } from '../core/config/load.js';
import { openDatabase } from '../core/database/database.js';
import { createLogger } from '../core/logging/logger.js';
import { AuthService } from './auth/auth.service.js';
import { password as passwordSchema, username as usernameSchema } from './auth/auth.schema.js';
import { UserStore } from './auth/user.store.js';
import { assertAcceptablePassword } from './auth/password-policy.js';
import { ValidationError } from '../core/errors.js';
import { runDeadLetterCommand } from './callbacks/dead-letters.cli.js';

/**
 * Operator tooling: `npm run admin -- create-operator <username>`. The password comes from
 * ONAIR_ADMIN_PASSWORD, or is read from stdin (one line), so it never appears in `ps` or shell history.
 */
const USAGE = 'usage: npm run admin -- create-operator <username>   (password from ONAIR_ADMIN_PASSWORD or stdin)';

async function readPassword(): Promise<string> {
  const fromEnv = process.env.ONAIR_ADMIN_PASSWORD;
  if (fromEnv) return fromEnv;
  if (process.stdin.isTTY) process.stderr.write('password: ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    rl.close();
    return line.trim();
  }
  return '';
}

async function main(argv: string[]): Promise<number> {
  const [command, name] = argv;
  if (command === 'dead-letters') return runDeadLetterCommand(argv.slice(1));
  if (command !== 'create-operator' || !name) {
    console.error(USAGE);
    return 2;
  }
  const username = usernameSchema.safeParse(name);
  if (!username.success) {
    console.error('invalid username: 3-64 letters, digits, _ . -');
    return 2;
  }
  const password = passwordSchema.safeParse(await readPassword());
  if (!password.success) {
    console.error('the password must be 8-256 characters');
    return 2;
  }
  // ONAIR_ADMIN_USER is for the server's start; here the username comes from the command line.
  const env = { ...process.env, ONAIR_ADMIN_USER: undefined, ONAIR_ADMIN_PASSWORD: undefined };
  const config = loadConfig(env);
  try {
    await assertAcceptablePassword(password.data, username.data, { minLength: config.auth.passwordMinLength });
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    console.error(`${err.message} (${err.code})`);
    return 2;
  }
  const log = createLogger({ level: 'warn' });
  const db = await openDatabase({ url: config.database.url, dataDir: config.dataDir, log });
  try {
    await db.migrate();
    const auth = new AuthService(new UserStore(db), config, log);
    const { user, created } = await auth.ensureOperator(username.data, password.data);
    console.log(`${created ? 'created' : 'updated'} operator ${user.username} (id ${user.id})`);
    return 0;
  } finally {
    await db.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
