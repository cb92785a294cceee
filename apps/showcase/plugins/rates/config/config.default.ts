export default {
  rates: { base: 'EUR', refreshInterval: 10_000 },
};
