/** An attendee event came before its meeting's; it is tried again once that is in. */
export class MeetingNotKnownYet extends Error {
  override name = 'MeetingNotKnownYet';
}

/** A later event overtook the registration's first one (a retry); it is tried again once that is in. */
export class PersonalLinkNotKnownYet extends Error {
  override name = 'PersonalLinkNotKnownYet';
}
