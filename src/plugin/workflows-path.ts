/**
 * The module the plugin's workers bundle (webpack) when no prebuilt bundle is given: the
 * workflows' index next to this file's folder, `src/workflows/index.ts` under ts-node and
 * `dist/workflows/index.js` in the installed package (the tarball ships the compiled workflows).
 */
export const LINKED_IMAGES_WORKFLOWS_PATH: string = require.resolve('../workflows');
