export default {
  greeting: 'Hello from your machine',
};
