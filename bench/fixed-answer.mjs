// The fixed answer of the bench's reference servers: one fixed prediction per instance, so it has
// the service's shape and size. Cached per instance count.
const answers = new Map();

/** The answer for a request of `count` instances, as an object and as its JSON text. */
export function getFixedAnswer(count) {
  let answer = answers.get(count);
  if (answer === undefined) {
    const object = { model: { name: 'telco-churn', version: '1.0.0' }, predictions: Array.from({ length: count }, () => ({ churn: true, probability: 0.6115702479338831 })) };
    answer = { object, text: JSON.stringify(object) };
    answers.set(count, answer);
  }
  return answer;
}
