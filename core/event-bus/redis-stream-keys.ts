/** The Redis keys of one bus (prefix applied): shared by the bus and its consumers. */
export interface StreamKeys {
  stream: string;
  dead: string;
  deadSeq: string;
  retry(group: string): string;
  attempts(group: string): string;
}
