/** The derived state of one conversation, as the state API and the send checks read it. */
import type { EventStore } from '../store/types.js';
import type { ConversationStateView } from '../state/types.js';
import { conversationView, relatedRefs } from '../state/fold.js';

export async function readConversationState(events: EventStore, sidOrUniqueName: string): Promise<ConversationStateView | undefined> {
  const sid = await events.findConversation(sidOrUniqueName);
  if (!sid) return undefined;
  const docs = await events.conversationEntities(sid);
  const related = await events.entities(relatedRefs(docs));
  return conversationView(docs, related);
}
