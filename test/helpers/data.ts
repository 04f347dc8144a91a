// The shared test data lives beside the checkout (../shared/data), never inside it.
import { resolve } from 'node:path';

export const SHARED_DATA = resolve(import.meta.dir, '../../../shared/data');
export const MNIST_DIR = resolve(SHARED_DATA, 'mnist');
