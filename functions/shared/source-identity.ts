/**
 * The STS SourceIdentity the central responder sets when it assumes the member role. CloudTrail
 * records it in `userIdentity.sessionContext.sourceIdentity`, and nobody can change it within the
 * session; the member role's trust policy requires it. A member-role call without it was not made
 * by the responder.
 */
export const RESPONDER_SOURCE_IDENTITY = "kms-responder";
