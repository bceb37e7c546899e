/** Services take the time from their caller, so tests and consumers agree on "now". */
export type Clock = () => Date;
export const systemClock: Clock = () => new Date();
