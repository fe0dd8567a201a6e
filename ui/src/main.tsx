/** The dashboard's entry point: styles, theme, then the app in #app. */
import { render } from 'preact';
import './styles/app.css';
import { App } from './app/App.tsx';
import { initTheme } from './app/theme.ts';

initTheme();
render(<App />, document.getElementById('app')!);
