// `helm test`: GET /ready until it answers 200 (the first request may wake a revision scaled to zero: Knative's
// activator holds it while a pod starts), then POST /predict with one real customer and check the answer's shape.
// Runs in the serving image itself as `node -e "<this file>"` (the image has Node and no shell), so no other image
// is pulled. Env: BASE_URL, PREDICT_REQUEST (a JSON body), READY_ATTEMPTS (20), RETRY_DELAY_MS (2000),
// REQUEST_TIMEOUT_MS (10000). Exit 0 when both answers are right, 1 with one line saying what was wrong.
/* global fetch, AbortSignal, setTimeout */
'use strict';

const env = process.env;
const baseUrl = (env.BASE_URL || '').replace(/\/+$/, '');
const readyAttempts = Number(env.READY_ATTEMPTS || 20);
const retryDelayMs = Number(env.RETRY_DELAY_MS || 2000);
const requestTimeoutMs = Number(env.REQUEST_TIMEOUT_MS || 10000);

const say = (line) => process.stdout.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The reason a request failed without an HTTP answer, as short as Node can say it. */
function describeError(error) {
  return (error.cause && (error.cause.code || error.cause.message)) || error.name || String(error);
}

async function waitUntilReady() {
  let last = 'no attempt';
  for (let attempt = 1; attempt <= readyAttempts; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(requestTimeoutMs) });
      const text = await response.text();
      if (response.status === 200) {
        say(`GET /ready: 200 after ${attempt} attempt(s): ${text}`);
        return;
      }
      last = `status ${response.status}`;
    } catch (error) {
      last = describeError(error);
    }
    say(`GET /ready: attempt ${attempt} of ${readyAttempts}: ${last}`);
    if (attempt < readyAttempts) await sleep(retryDelayMs);
  }
  throw new Error(`GET ${baseUrl}/ready did not answer 200 in ${readyAttempts} attempts (last: ${last})`);
}

async function checkPrediction() {
  const body = env.PREDICT_REQUEST || '';
  const instances = JSON.parse(body).instances.length;
  const response = await fetch(`${baseUrl}/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`POST ${baseUrl}/predict answered ${response.status}: ${text}`);
  const predictions = JSON.parse(text).predictions;
  const valid = (p) => typeof p.churn === 'boolean' && typeof p.probability === 'number' && p.probability >= 0 && p.probability <= 1;
  if (!Array.isArray(predictions) || predictions.length !== instances || !predictions.every(valid)) {
    throw new Error(`POST ${baseUrl}/predict: expected ${instances} prediction(s) {churn, probability in [0, 1]}, got ${text}`);
  }
  say(`POST /predict: 200: ${text}`);
}

waitUntilReady()
  .then(checkPrediction)
  .then(
    () => process.exit(0),
    (error) => {
      say(`helm test failed: ${error.message}`);
      process.exit(1);
    },
  );
