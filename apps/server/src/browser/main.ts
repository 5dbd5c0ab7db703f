import { start } from './browser-app';

void start();
