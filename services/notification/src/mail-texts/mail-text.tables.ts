/** The office's texts in the standard mails (see db/mail-texts.migrations.ts). */
export interface MailTextTables {
  mail_text: {
    meeting_id: string;
    language: string;
    introduction: string;
    practical: string;
    updated_at: Date;
    /** `staff:<console account id>` or `api-key:<name>`. */
    updated_by_id: string;
    /** The person (`name <email>`) or the key's name, as the console's history shows it. */
    updated_by_name: string;
  };
}
