/**
 * Who appears on a meeting's "who else is coming" list: someone holding a seat (confirmed or checked in)
 * who consented to it. Consent is off unless the person ticks it, at registration or on the manage page.
 * The repository applies the same rule in SQL (`listedStatuses` and the consent column).
 */
export const listedStatuses = ['confirmed', 'checked_in'] as const;

export function appearsOnList(registration: {
  status: string;
  consentAttendeeList: boolean;
  erased: boolean;
}): boolean {
  return (
    !registration.erased &&
    registration.consentAttendeeList &&
    (listedStatuses as readonly string[]).includes(registration.status)
  );
}

/** Who may see the list: an attendee of the meeting (seated, waiting or there), not someone who cancelled. */
export function mayViewList(status: string): boolean {
  return status === 'confirmed' || status === 'waitlisted' || status === 'checked_in' || status === 'no_show';
}
