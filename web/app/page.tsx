import { App } from '../components/App';

// Pre-rendered at build time (static export); everything live happens in the browser.
export default function Page() {
  return <App />;
}
