/** Addresses. Listeners bind loopback by default; any other address needs a credential. */

/** True for an address only this machine can reach: 127.0.0.0/8, ::1, localhost. */
export const isLoopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
