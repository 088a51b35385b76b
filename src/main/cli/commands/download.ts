import { LanspreadError } from '../../../shared/errors';

export async function runDownload(_argv: string[]): Promise<number> {
  throw new LanspreadError('INTERNAL', 'download is not available yet in this build');
}
