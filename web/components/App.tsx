'use client';
import { useEffect, useState } from 'react';
import { takeKeyFromLocation } from '../lib/access';
import { LiveSession } from '../lib/live-session';
import { CameraPreview } from './CameraPreview';
import { ClipStrip } from './ClipStrip';
import { EngineInfo } from './EngineInfo';
import { MediaStats } from './MediaStats';
import { MemoryPanel } from './MemoryPanel';
import { MicLevel } from './MicLevel';
import { ProblemBanner } from './ProblemBanner';
import { QuestionBox } from './QuestionBox';
import { SessionContext } from './session-context';
import { SessionControls } from './SessionControls';
import { StatusBar } from './StatusBar';
import { Transcript } from './Transcript';
import { WatchPanel } from './WatchPanel';

export function App() {
  const [session] = useState(() => new LiveSession());
  // A #key= link from the server's first start: kept in this browser, gone from the address bar,
  // before anything asks the server for memory.
  const [keyTaken, setKeyTaken] = useState(false);
  useEffect(() => {
    takeKeyFromLocation();
    setKeyTaken(true);
    window.addEventListener('hashchange', takeKeyFromLocation);
    return () => window.removeEventListener('hashchange', takeKeyFromLocation);
  }, []);

  // Leaving the page: release camera and microphone, and tell the server.
  useEffect(() => {
    const leave = () => session.stop();
    window.addEventListener('pagehide', leave);
    return () => window.removeEventListener('pagehide', leave);
  }, [session]);

  return (
    <SessionContext value={session}>
      <main className="app">
        <header className="top">
          <h1>OmniLive</h1>
          <StatusBar />
        </header>
        <div className="layout">
          <aside className="media" aria-label="Camera and microphone">
            <CameraPreview />
            <div className="controls">
              <SessionControls />
              <MicLevel />
            </div>
            <WatchPanel />
            <MediaStats />
            <EngineInfo />
          </aside>
          <div className="talk">
            <ProblemBanner />
            <Transcript />
            <QuestionBox />
          </div>
        </div>
        <ClipStrip />
        {keyTaken && <MemoryPanel />}
      </main>
    </SessionContext>
  );
}
