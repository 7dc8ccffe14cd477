// Artillery processor for bench/stress.yml: request bodies made of real customers from the training
// data, picked at random for every request. The CSV is read with the training code's reader, so the
// customers are typed exactly as serving validates them (flags and charges numbers, blank total → null).
import { fileURLToPath, URL } from 'node:url';
import { readDataset } from '../training/dataset.ts';

// Customers in one batch request.
const BATCH_INSTANCES = 100;

const CSV_PATH = fileURLToPath(new URL('../training/data/telco-churn.csv', import.meta.url));
// Serialized once: a request body is then a string join, so artillery spends its CPU on sending.
const customers = (await readDataset(CSV_PATH)).instances.map((instance) => JSON.stringify(instance));

const pickCustomer = () => customers[Math.floor(Math.random() * customers.length)];

function setBody(requestParams, count) {
  const picked = Array.from({ length: count }, pickCustomer);
  requestParams.headers = { ...requestParams.headers, 'content-type': 'application/json' };
  requestParams.body = `{"instances":[${picked.join(',')}]}`;
}

/** beforeRequest hook: a body of one random customer. */
export function setSingleCustomerBody(requestParams, _context, _events, done) {
  setBody(requestParams, 1);
  done();
}

/** beforeRequest hook: a body of BATCH_INSTANCES random customers. */
export function setBatchBody(requestParams, _context, _events, done) {
  setBody(requestParams, BATCH_INSTANCES);
  done();
}
