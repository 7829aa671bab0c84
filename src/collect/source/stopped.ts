/** Raised inside a source when the agent is stopping: the source ends quietly; its marker says where to resume. */
export class StoppedError extends Error {
  constructor() {
    super('agent stopping');
    this.name = 'StoppedError';
  }
}
