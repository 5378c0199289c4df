import { command, fields, revocationNotice, show } from "./admin-command.ts";

export const sessionsCommand = command({
  name: "sessions",
  changes: false,
  summary: "list live sessions (created, last used, IP, agent)",
  run: (support, request) => support.sessions(request),
  describe: (sessions, { email }) => {
    if (sessions.length === 0) return [`${email} has no active session.`];
    return sessions.flatMap((session, index) => [
      ...(index > 0 ? [""] : []),
      ...fields({
        session: session.id,
        created: session.createdAt,
        "last used": session.lastUsedAt,
        expires: session.expiresAt,
        ip: session.ip,
        "user agent": session.userAgent,
        amr: show(session.amr),
      }),
    ]);
  },
});

export const revokeSessionCommand = command({
  name: "revoke-session",
  args: ["sessionId"],
  changes: true,
  summary: "revoke one session",
  run: (support, request, [sessionId = ""]) => support.revokeSession(request, sessionId),
  describe: (value, { kv }) => [`Session ${value.sessionId} is revoked.`, ...revocationNotice(kv, 1)],
});

export const revokeSessionsCommand = command({
  name: "revoke-sessions",
  changes: true,
  summary: "revoke every session of the account",
  run: (support, request) => support.revokeSessions(request),
  describe: (value, { email, kv }) => [
    `${value.sessionIds.length} session(s) of ${email} revoked${value.sessionIds.length ? `: ${value.sessionIds.join(", ")}` : "."}`,
    ...revocationNotice(kv, value.sessionIds.length),
  ],
});
