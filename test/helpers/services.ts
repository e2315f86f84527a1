/**
 * Tests that need a system service (clickhouse-server, prometheus, litellm, claude) skip with a
 * loud reason on a developer machine without it; .ci/run sets TOKENLEDGER_REQUIRE_SERVICES=1,
 * which turns a missing service into a failure.
 */
export const servicesRequired = process.env.TOKENLEDGER_REQUIRE_SERVICES === '1';

/** Returns true when the test may run; logs the reason and returns false when it must skip. */
export function serviceAvailable(name: string, available: boolean, hint: string): boolean {
  if (available) return true;
  const msg = `${name} is not available: ${hint}`;
  if (servicesRequired) throw new Error(`${msg} (TOKENLEDGER_REQUIRE_SERVICES=1: this test is mandatory)`);
  process.stderr.write(`\n*** SKIPPING tests that need ${msg}. Run scripts/dev-services.sh to set it up. ***\n\n`);
  return false;
}
