/**
 * The fleet simulator: the cars' status day files and real-time driving log, and the reference data
 * sets (car master, purchases, income, incidents), seeded so the same seed gives the same bytes.
 */
export { writeStatusDay, statusFileName, RECORDS_PER_CAR_PER_DAY, CarStatusState } from './status.ts';
export type { StatusDayOptions } from './status.ts';
export { runDriverLog, driverLines, Driver, WILD_SHARE } from './driver.ts';
export type { DriverLogOptions, DriverLinesOptions } from './driver.ts';
export { writeMaster, writeBuyList, writeIncome, writeIncidents, incidentLabel, masterCarNumbers, INCIDENT_FEATURES } from './reference.ts';
export { rngFor, randomSeed, weighted } from './random.ts';
export type { Rng } from './random.ts';
export { garbageLine } from './garbage.ts';
