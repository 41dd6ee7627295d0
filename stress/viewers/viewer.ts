/** A running viewer connection of any protocol. */
export interface ViewerConn {
  close(): void;
}
