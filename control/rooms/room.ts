/** The room as the domain sees it. streamKey is a secret: only the owner's endpoints return it. */
export interface Room {
  id: string;
  ownerId: string;
  title: string;
  coverUrl: string | null;
  streamKey: string;
  streamKeyRotatedAt: Date | null;
  streamKeyRevoked: boolean;
  isLive: boolean;
  viewersCount: number;
  recordEnabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}
