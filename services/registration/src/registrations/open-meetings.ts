import type { QuestionView } from '../questions/question.service.ts';
import type { MeetingWithLiveRegistration } from './registration.repository.ts';

/** A meeting as a registration decides on it: with the questions of its `questions_version`. */
export type OpenMeeting = MeetingWithLiveRegistration & { questions: readonly QuestionView[] };

/** How many meetings the cache keeps before it starts again from empty. */
const OPEN_MEETINGS_KEPT = 1000;

/**
 * Meetings last seen open for registration, so a registration usually needs no read before its write. One
 * per service (on its ServiceContext). Only a hint: the registering statement writes nothing unless the
 * meeting still has the cached version, and a meeting the cache does not show open right now is read again.
 */
export class OpenMeetings {
  readonly #meetings = new Map<string, OpenMeeting>();

  get(meetingId: string): OpenMeeting | undefined {
    return this.#meetings.get(meetingId);
  }

  remember(meeting: OpenMeeting): void {
    if (this.#meetings.size >= OPEN_MEETINGS_KEPT) this.#meetings.clear();
    this.#meetings.set(meeting.id, meeting);
  }

  forget(meetingId: string): void {
    this.#meetings.delete(meetingId);
  }
}
