// The abuse and erasure checks of the CI subset, with 30 generated requests per operation instead of 6.
process.env.FAULTS_FUZZ_RUNS ??= '30';
await import('../test/abuse-and-erasure.test.ts');
