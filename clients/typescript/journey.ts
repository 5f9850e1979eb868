/**
 * The main user journey through a client generated from spec/openapi.yaml: if the
 * types cannot describe a call the service answers, or the service answers what the
 * types do not describe, the spec is wrong.
 *
 *     API_URL=http://127.0.0.1:8000 node build/journey.js
 *
 * One line per step; exits 1 at the first step that fails. It stays within the
 * service's real limits (two sign-ups, two logins, two events), so it needs no
 * special server settings. `python -m tests.clients.run_typescript` builds it and
 * runs it against a fresh server.
 */
import { randomBytes } from "node:crypto";

import createClient from "openapi-fetch";

import type { operations, paths } from "./generated/schema.js";

type Account = operations["auth_register"]["responses"][201]["content"]["application/json"];
type TokenPair = operations["auth_login"]["responses"][200]["content"]["application/json"];
type FeedbackConflict =
  operations["events_feedback_create"]["responses"][409]["content"]["application/problem+json"];

// The code early feedback is refused with. `satisfies` makes tsc prove the spec documents
// it for that 409; the switch on the typed error only proves some error response has it.
const EVENT_NOT_STARTED = "event_not_started" satisfies FeedbackConflict["code"];

const baseUrl = process.env.API_URL ?? "";
if (!baseUrl) {
  console.error("Set API_URL to the service's base URL, e.g. http://127.0.0.1:8000");
  process.exit(2);
}

function client(tokens?: TokenPair) {
  return createClient<paths>({
    baseUrl,
    // `ordering` is `style: form, explode: false` in the spec: one comma-separated value.
    querySerializer: { array: { style: "form", explode: false } },
    ...(tokens && { headers: { Authorization: `Bearer ${tokens.access}` } }),
  });
}

const anonymous = client();

class Mismatch extends Error {}

function expect(condition: boolean, message: string): asserts condition {
  if (!condition) {
    throw new Mismatch(message);
  }
}

function expectEqual<T>(actual: T, expected: T, what: string): void {
  expect(
    actual === expected,
    `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`,
  );
}

/** The body of a success answer with exactly `status`, or a Mismatch showing what came instead. */
function answered<T>(
  result: { data?: T; error?: unknown; response: Response },
  status: number,
): T {
  const { data, error, response } = result;
  expect(
    response.status === status && data !== undefined,
    `expected HTTP ${status}, got ${response.status}: ${JSON.stringify(error ?? data)}`,
  );
  return data;
}

/** The problem details of a failure answer with exactly `status`. */
function refused<E>(result: { data?: unknown; error?: E; response: Response }, status: number): E {
  const { data, error, response } = result;
  expect(
    response.status === status && error !== undefined,
    `expected HTTP ${status}, got ${response.status}: ${JSON.stringify(data ?? error)}`,
  );
  return error;
}

let stepNumber = 0;

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  stepNumber += 1;
  const started = performance.now();
  const label = `${stepNumber.toString().padStart(2)} ${name}`;
  try {
    const result = await run();
    console.log(`ok   ${label} (${Math.round(performance.now() - started)} ms)`);
    return result;
  } catch (failure) {
    console.log(`FAIL ${label}: ${describe(failure)}`);
    throw failure;
  }
}

function describe(failure: unknown): string {
  if (!(failure instanceof Error)) {
    return String(failure);
  }
  if (failure instanceof Mismatch) {
    return failure.message;
  }
  // A network error from fetch carries the reason (ECONNREFUSED, ...) as its cause.
  const cause = failure.cause instanceof Error ? ` (${failure.cause.message})` : "";
  return `${failure.stack ?? failure.message}${cause}`;
}

function sameInstant(actual: string, expected: string, what: string): void {
  expectEqual(Date.parse(actual), Date.parse(expected), what);
}

const HOUR = 60 * 60 * 1000;

function hoursFromNow(hours: number): string {
  return new Date(Date.now() + hours * HOUR).toISOString();
}

async function signUp(name: string): Promise<{ account: Account; password: string }> {
  // Unique per run, so the journey also runs against a server that has seen it before.
  const username = `${name}_${randomBytes(4).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  const email = `${username}@example.org`;
  const account = answered(
    await anonymous.POST("/api/register/", { body: { username, email, password } }),
    201,
  );
  expectEqual(account.username, username, "username");
  expectEqual(account.email, email, "email");
  return { account, password };
}

async function logIn(account: Account, password: string): Promise<TokenPair> {
  const tokens = answered(
    await anonymous.POST("/api/login/", { body: { username: account.username, password } }),
    200,
  );
  expect(tokens.access.length > 0 && tokens.refresh.length > 0, "login returned empty tokens");
  return tokens;
}

async function journey(): Promise<void> {
  const alice = await step("sign up the host", () => signUp("alice"));
  const bob = await step("sign up a guest", () => signUp("bob"));
  expect(alice.account.id !== bob.account.id, "both accounts have the same id");

  const aliceTokens = await step("log in the host", () => logIn(alice.account, alice.password));
  const bobTokens = await step("log in the guest", () => logIn(bob.account, bob.password));
  const asAlice = client(aliceTokens);
  const asBob = client(bobTokens);

  const party = await step("host creates an event", async () => {
    const body = {
      title: "Launch party",
      description: "The first event of the journey.",
      start_time: hoursFromNow(24),
      end_time: hoursFromNow(27),
      location: "Lisbon",
      max_participants: 10,
    };
    const event = answered(await asAlice.POST("/api/events/", { body }), 201);
    expectEqual(event.title, body.title, "title");
    expectEqual(event.host.id, alice.account.id, "host id");
    expectEqual(event.host.username, alice.account.username, "host username");
    sameInstant(event.start_time, body.start_time, "start_time");
    sameInstant(event.end_time, body.end_time, "end_time");
    expectEqual(event.max_participants, body.max_participants, "max_participants");
    expectEqual(event.participants_count, 0, "participants_count");
    return event;
  });

  const workshop = await step("host creates a second event", async () => {
    const body = {
      title: "Workshop",
      start_time: hoursFromNow(48),
      end_time: hoursFromNow(50),
      max_participants: 5,
    };
    const event = answered(await asAlice.POST("/api/events/", { body }), 201);
    expectEqual(event.host.id, alice.account.id, "host id");
    expect(event.id !== party.id, "both events have the same id");
    return event;
  });

  await step("list the host's events, second page of one", async () => {
    const page = answered(
      await anonymous.GET("/api/events/", {
        params: {
          query: {
            host: alice.account.id,
            ordering: ["start_time", "-title"],
            page: 2,
            page_size: 1,
          },
        },
      }),
      200,
    );
    expectEqual(page.count, 2, "count");
    expectEqual(page.results.length, 1, "results on the page");
    expectEqual(page.results[0]?.id, workshop.id, "the later event's id");
    expectEqual(page.next, null, "next");
    expect(page.previous !== null, "previous is null on page 2");
  });

  await step("guest registers for the event", async () => {
    const participant = answered(
      await asBob.POST("/api/events/{id}/register/", { params: { path: { id: party.id } } }),
      201,
    );
    expectEqual(participant.user.id, bob.account.id, "participant id");
  });

  await step("host lists the participants", async () => {
    const page = answered(
      await asAlice.GET("/api/events/{id}/participants/", { params: { path: { id: party.id } } }),
      200,
    );
    expectEqual(page.count, 1, "count");
    expectEqual(page.results[0]?.user.id, bob.account.id, "participant id");
    expectEqual(page.results[0]?.user.username, bob.account.username, "participant username");
  });

  const invitation = await step("host invites the guest to the second event", async () => {
    const sent = answered(
      await asAlice.POST("/api/events/{id}/invite/", {
        params: { path: { id: workshop.id } },
        body: { invitee: bob.account.id },
      }),
      201,
    );
    expectEqual(sent.status, "PENDING", "status");
    expectEqual(sent.event.id, workshop.id, "event id");
    expectEqual(sent.inviter.id, alice.account.id, "inviter id");
    expectEqual(sent.invitee.id, bob.account.id, "invitee id");
    expectEqual(sent.responded_at, null, "responded_at");
    return sent;
  });

  await step("guest finds the invitation among their pending ones", async () => {
    const page = answered(
      await asBob.GET("/api/invitations/", { params: { query: { status: "PENDING" } } }),
      200,
    );
    expectEqual(page.count, 1, "count");
    expectEqual(page.results[0]?.id, invitation.id, "invitation id");
    expectEqual(page.results[0]?.event.title, workshop.title, "event title");
  });

  await step("guest accepts the invitation", async () => {
    const answer = answered(
      await asBob.PUT("/api/invitations/{id}/", {
        params: { path: { id: invitation.id } },
        body: { status: "ACCEPTED" },
      }),
      200,
    );
    expectEqual(answer.id, invitation.id, "invitation id");
    expectEqual(answer.status, "ACCEPTED", "status");
    expect(answer.responded_at !== null, "responded_at is null after answering");
  });

  await step("accepting registered the guest", async () => {
    const event = answered(
      await anonymous.GET("/api/events/{id}/", { params: { path: { id: workshop.id } } }),
      200,
    );
    expectEqual(event.participants_count, 1, "participants_count");
    const page = answered(
      await asBob.GET("/api/events/{id}/participants/", { params: { path: { id: workshop.id } } }),
      200,
    );
    expectEqual(page.results[0]?.user.id, bob.account.id, "participant id");
  });

  await step("feedback before the event starts is refused", async () => {
    const problem = refused(
      await asBob.POST("/api/events/{id}/feedback/", {
        params: { path: { id: party.id } },
        body: { rating: 5, comment: "Too early to tell." },
      }),
      409,
    );
    switch (problem.code) {
      case EVENT_NOT_STARTED:
        break;
      default:
        throw new Mismatch(`expected code ${EVENT_NOT_STARTED}, got ${problem.code}`);
    }
    expectEqual(problem.status, 409, "problem status");
  });

  const rotated = await step("host refreshes the tokens", async () => {
    const tokens = answered(
      await anonymous.POST("/api/token/refresh/", { body: { refresh: aliceTokens.refresh } }),
      200,
    );
    expect(tokens.access.length > 0, "refresh returned an empty access token");
    expect(tokens.refresh !== aliceTokens.refresh, "refresh returned the token it redeemed");
    return tokens;
  });

  await step("host logs out", async () => {
    const { error, response } = await client(rotated).POST("/api/logout/", {
      body: { refresh: rotated.refresh },
    });
    expectEqual(response.status, 204, `logout status (${JSON.stringify(error)})`);
  });

  await step("the session's refresh token no longer works", async () => {
    const problem = refused(
      await anonymous.POST("/api/token/refresh/", { body: { refresh: rotated.refresh } }),
      401,
    );
    expectEqual(problem.status, 401, "problem status");
  });
}

try {
  await journey();
  console.log(`The journey passed: ${stepNumber} steps against ${baseUrl}.`);
} catch {
  process.exitCode = 1;
}
