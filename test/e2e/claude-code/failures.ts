/** Remembers whether any test of a scenario failed, so that its afterAll keeps the work dir for inspection. */
export class FailureTracker {
  failed = false;

  /** `fn` as a test body that records its failure before rethrowing it. */
  readonly track = (fn: () => Promise<void>) => async (): Promise<void> => {
    try {
      await fn();
    } catch (err) {
      this.failed = true;
      throw err;
    }
  };
}
