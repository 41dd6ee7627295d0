/** Imports remote.schema.ts (and with it zod) on the first hook call or control API request. */
let loading: Promise<typeof import('./remote.schema.js')> | undefined;
export function remoteSchemas(): Promise<typeof import('./remote.schema.js')> {
  loading ??= import('./remote.schema.js');
  return loading;
}
