/** The CLI's version; a unit test keeps it equal to cli/package.json's. */
export const CLI_VERSION = '0.1.0';
