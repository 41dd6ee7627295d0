/**
 * The `.open` marker beside a recording being written (recovery.ts). Its own module, imported when
 * a marker is found, so the media service does not load zod at start (docs/benchmarks.md, "Media
 * service idle RSS").
 */
import { z } from 'zod';

export const markerSchema = z.object({
  streamName: z.string().min(1).max(191),
  publisherId: z.string().min(1).max(128),
  sessionId: z.string().max(64).optional(),
  segment: z.number().int().nonnegative().max(100_000).optional(),
  startedAt: z.number().nonnegative(),
  host: z.string().max(255),
});
export type OpenMarker = z.infer<typeof markerSchema>;
