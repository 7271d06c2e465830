// Lists cohorts through the client generated from Meridian's OpenAPI
// document, page by page, as a partner's system would.
//
//   node dist/list-cohorts.js <base URL> <access token>
import createClient from "openapi-fetch";

import type { paths } from "./schema.js";

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error("usage: node dist/list-cohorts.js <base URL> <access token>");
  process.exit(2);
}

const client = createClient<paths>({
  baseUrl: base,
  headers: { Authorization: `Bearer ${token}` },
});

let cursor: string | undefined;
let seen = 0;
do {
  const { data, error, response } = await client.GET("/api/v1/cohorts", {
    params: { query: { limit: 10, sort: "code", cursor } },
  });
  if (error !== undefined || data === undefined) {
    console.error(`GET /api/v1/cohorts answered ${response.status}`, error);
    process.exit(1);
  }
  for (const cohort of data.items) {
    // Typed members: a misspelt field does not compile.
    console.log(`${cohort.code}\t${cohort.status}\t${cohort.seats_taken}/${cohort.capacity}`);
  }
  seen += data.items.length;
  cursor = data.next_cursor ?? undefined;
} while (cursor);

if (seen === 0) {
  console.error("no cohort listed");
  process.exit(1);
}
console.log(`${seen} cohorts`);
