/**
 * Custom headers of the broker's maintenance requests (admin-maintenance-processor.ts).
 * CLEAN_EXPIRED_CONSUMEQUEUE, CLEAN_UNUSED_TOPIC and DELETE_EXPIRED_COMMITLOG carry no header.
 */
import { defineHeader, required } from './header.js';

/**
 * RESUME_CHECK_HALF_MESSAGE (323). Upstream marks msgId nullable, but a request without it can
 * only fail (upstream answers SYSTEM_ERROR from the exception): here the reply names the field.
 */
export const ResumeCheckHalfMessageRequestHeader = defineHeader('ResumeCheckHalfMessageRequestHeader', {
  /** The offset message id (store host + CommitLog offset) of the message to check again. */
  msgId: required('string'),
});
