// Drives Amazon's own Node SDK (ask-sdk-model, ask-sdk-core) against the
// emulator: a proactive event, a skill message, a duplicate event that
// must be refused with 409, and an invalid event that must surface as a
// ServiceError with status 400 and the emulator's error body. Run by
// TestAmazonNodeSDK.
const { services } = require('ask-sdk-model');
const { DefaultApiClient } = require('ask-sdk-core');

const ep = process.env.EP;
const auth = { clientId: process.env.CID, clientSecret: process.env.CSECRET, authEndpoint: ep };
const apiConfiguration = { apiClient: new DefaultApiClient(), apiEndpoint: ep };

function event(now) {
  return {
    timestamp: now.toISOString(),
    referenceId: 'node-sdk-1',
    expiryTime: new Date(now.getTime() + 3600e3).toISOString(),
    event: { name: 'AMAZON.WeatherAlert.Activated', payload: { weatherAlert: { alertType: 'SNOW_STORM', source: 'localizedattribute:source' } } },
    localizedAttributes: [{ locale: 'en-US', source: 'Foo' }],
    relevantAudience: { type: 'Multicast', payload: {} },
  };
}

(async () => {
  const events = new services.proactiveEvents.ProactiveEventsServiceClient(apiConfiguration, auth);
  const now = new Date();
  await events.createProactiveEvent(event(now), 'DEVELOPMENT');
  const messages = new services.skillMessaging.SkillMessagingServiceClient(apiConfiguration, auth);
  await messages.sendSkillMessage('amzn1.ask.account.NODE', { data: { reminder_id: 'XXXX' }, expiresAfterSeconds: 60 });
  try {
    await events.createProactiveEvent(event(now), 'DEVELOPMENT');
    console.log('duplicate: accepted');
  } catch (e) {
    console.log('duplicate: ' + e.statusCode);
  }
  try {
    await events.createProactiveEvent({ ...event(now), referenceId: '' }, 'DEVELOPMENT');
    console.log('invalid: accepted');
  } catch (e) {
    const r = e.response || {};
    console.log('invalid: ' + e.name + ' ' + e.statusCode + ' code=' + JSON.stringify(r.code) + ' message=' + r.message);
  }
  console.log('done');
})().catch((e) => {
  console.log('failed: ' + e.statusCode + ' ' + e.message + ' ' + JSON.stringify(e.response));
  process.exit(1);
});
