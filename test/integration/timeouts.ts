// Integration tests start containers and run whole drills: minutes, not seconds.
jest.setTimeout(15 * 60 * 1000);
