// The Django profile's table is core's default HTTP error convention (any HTTP stack can use it).
export { DJANGO_ERRORS, type ErrorBody } from '@chat-app-server/core/http';
