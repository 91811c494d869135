// Placeholder until the pipeline lands; replaced in the same change.
export const handler = async (): Promise<never> => {
  throw new Error('neighbor-updater: not implemented yet');
};
