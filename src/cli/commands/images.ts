// ocits images [--format table|json] [-q]: the images in the store.
import { OcitsError } from '../../errors';
import { writeStdout } from '../../output';
import { defineCommand } from '../command';
import { STORE_FLAG } from '../image-flags';

export const imagesCommand = defineCommand({
  name: 'images',
  usage: '[--format table|json] [--quiet]',
  describe: 'list the images in the image store',
  args: { min: 0, max: 0 },
  flags: {
    store: STORE_FLAG,
    format: { type: 'string', alias: 'f', default: 'table', describe: 'table or json' },
    quiet: { type: 'boolean', alias: 'q', default: false, describe: 'print only the full references' },
  },
  run: async ({ flags }) => {
    const { ImageStore, defaultStoreDir } = await import('../../image/store');
    const { formatImagesTable, isImagesFormat, listImages } = await import('../../image/images');
    if (!isImagesFormat(flags.format)) throw new OcitsError(`invalid format "${flags.format}": table or json`);
    const images = listImages(new ImageStore(defaultStoreDir(flags.store)));
    if (flags.quiet) writeStdout(images.map((image) => `${image.name}\n`).join(''));
    else writeStdout(flags.format === 'json' ? JSON.stringify(images, null, 2) + '\n' : formatImagesTable(images));
  },
});
