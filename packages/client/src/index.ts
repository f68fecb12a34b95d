// The City Deals services' HTTP APIs, typed from the OpenAPI documents they publish:
//   const registration = registrationClient({ baseUrl: 'http://127.0.0.1:3001' });
//   const answer = await registration.request('GET /meetings/{ref}', { params: { ref: 'cop-city-deals-demo' } });
//   if (answer.status === 200) console.log(answer.body.title);
// The JSON Schemas of every event and of the webhook body are in ./schemas.
import { type ApiClient, type ClientOptions, createApiClient } from './api-client.ts';
import type { DealTrackingApi } from './generated/deal-tracking.ts';
import type { NotificationApi } from './generated/notification.ts';
import type { RegistrationApi } from './generated/registration.ts';

export type { Answer, ApiClient, ClientOptions, RequestInput } from './api-client.ts';
export { createApiClient } from './api-client.ts';
export type { DealTrackingApi, NotificationApi, RegistrationApi };

export const registrationClient = (options: ClientOptions): ApiClient<RegistrationApi> =>
  createApiClient<RegistrationApi>(options);
export const dealTrackingClient = (options: ClientOptions): ApiClient<DealTrackingApi> =>
  createApiClient<DealTrackingApi>(options);
export const notificationClient = (options: ClientOptions): ApiClient<NotificationApi> =>
  createApiClient<NotificationApi>(options);
