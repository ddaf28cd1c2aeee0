/** Who submitted a transaction, as records keep it: MSP id plus the certificate's `principal` and `role` ('' when absent). */
export interface Actor {
  mspId: string;
  principal: string;
  role: string;
}
