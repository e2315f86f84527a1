/** LiteLLM versions with hash-pinned requirements here, each captured in test/fixtures/litellm/: every OTel layout, and no large hole in between. */
export const VERSIONS = [
  // legacy `otel` callback: LLM attributes on a `litellm_request` child span
  '1.80.11',
  // 1.81.x: LLM attributes on the parent `Received Proxy Server Request` span
  '1.81.3',
  // between 1.81 and 1.108, so the version axis has no large hole (1.82.7 / 1.82.8 / 1.107.0 never: compromised)
  '1.84.10',
  '1.88.6',
  '1.99.4',
  // 1.103.11 and 1.104.9 are not installable (they pin a litellm-proxy-extras PyPI does not have), as 1.108.8+
  '1.105.7',
  // newest installable: legacy callback plus the semconv opt-in and the V2 integration
  '1.108.7',
];
/** Installed and exercised by CI (install time): the oldest layout and the newest. */
export const CI_VERSIONS = ['1.80.11', '1.108.7'];
