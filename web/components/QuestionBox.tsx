'use client';
import { useState, type FormEvent } from 'react';
import { useLiveSession } from './session-context';

/** Typed questions: sent as a user message plus response.create, with or without the microphone. */
export function QuestionBox() {
  const session = useLiveSession();
  const [text, setText] = useState('');
  const [sending, setSending] = useState(false);

  async function onSubmit(e: FormEvent) {
    e.preventDefault();
    const question = text.trim();
    if (!question || sending) return;
    setSending(true);
    try {
      // Keep the text when it could not be sent, so Retry + Ask does not need retyping.
      if (await session.ask(question)) setText('');
    } finally {
      setSending(false);
    }
  }

  return (
    <form className="ask" onSubmit={onSubmit} autoComplete="off">
      <label htmlFor="question" className="visually-hidden">
        Type a question
      </label>
      <input
        id="question"
        type="text"
        placeholder="Type a question…"
        maxLength={4000}
        enterKeyHint="send"
        data-testid="question-input"
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="submit" data-testid="ask" disabled={sending || !text.trim()}>
        Ask
      </button>
    </form>
  );
}
