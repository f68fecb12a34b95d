/** The error answers every admin route of this service can give. */
export const adminErrors = [400, 401, 403, 404, 409] as const;
