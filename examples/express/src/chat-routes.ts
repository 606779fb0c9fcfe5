// The whole chat integration of an Express backend: two endpoints and an error handler.
import { InvalidRequestError, type Core } from '@chat-app-server/core';
import { DJANGO_ERRORS, errorResponse, type ErrorLogger } from '@chat-app-server/core/http';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';

/** Your backend's authentication: here the `X-User-Id` header stands in for a session. */
export const requireUser: RequestHandler = (req, res, next) => {
  const userId = req.get('X-User-Id')?.trim();
  if (!userId) {
    res.status(401).json(DJANGO_ERRORS.body(401, 'unauthenticated', 'Sign in first (send X-User-Id).'));
    return;
  }
  res.locals.userId = userId;
  next();
};

export function chatRoutes(core: Core, logger: ErrorLogger): express.Router {
  const router = express.Router();
  router.use(requireUser);

  // The caller's chat user (created on first use, also when several requests race) and a chat token.
  router.post('/chat/session', async (_req, res) => {
    const principal = await core.provisionChatUser.execute({ account: res.locals.userId });
    const { token, expireTimestamp } = await core.issueChatToken.execute(principal);
    res.set('Cache-Control', 'no-store').json({
      chatUserName: principal.chatUsername, agoraUid: String(principal.agoraUid), accessToken: token, expireTimestamp,
    });
  });

  // A chat + RTC token for one channel, bound to the caller's persistent agoraUid.
  router.get('/rtc/token', async (req, res) => {
    const { channelName, publisherRole = 'false' } = req.query;
    if (typeof channelName !== 'string') throw new InvalidRequestError('channelName', 'channelName is required, once.');
    if (publisherRole !== 'true' && publisherRole !== 'false') {
      throw new InvalidRequestError('publisherRole', 'publisherRole must be true or false.');
    }
    const principal = await core.provisionChatUser.execute({ account: res.locals.userId });
    const role = publisherRole === 'true' ? 'publisher' : 'subscriber';
    const { token, expireTimestamp } = await core.issueRtcToken.execute({ principal, channelName, role });
    res.set('Cache-Control', 'no-store').json({ accessToken: token, expireTimestamp, agoraUid: String(principal.agoraUid) });
  });

  // Core's errors as HTTP: real statuses, Retry-After, {code, error, message}; details only in the log.
  const renderErrors: ErrorRequestHandler = (err, req, res, _next) => {
    const { status, headers, body } = errorResponse(err, DJANGO_ERRORS, { logger, method: req.method, path: req.path });
    res.status(status).set(headers).json(body);
  };
  router.use(renderErrors);
  return router;
}

