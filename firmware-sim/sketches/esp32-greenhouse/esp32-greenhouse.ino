/*
 * IoT Lab reference firmware: ESP32 greenhouse kit (Wi-Fi + MQTT).
 *
 * DHT22 (temperature, humidity), LDR (light, lux), capacitive soil moisture probe, fan and pump
 * on relays. Publishes telemetry every 2 s, obeys {"command":"fan","value":1} on its commands
 * topic and prints what the platform reports on its errors topic to the Serial Monitor
 * (115200 baud), so you can see why a message was refused.
 *
 * Libraries (Arduino IDE 2, Library Manager): PubSubClient (Nick O'Leary),
 * ArduinoJson 7.x (Benoit Blanchon), DHT sensor library (Adafruit) + Adafruit Unified Sensor.
 * Board: esp32 core (Espressif Systems) -> "ESP32 Dev Module". See ../README.md for wiring.
 *
 * Wire contract: docs/protocol.md. Topics: iotlab/v1/kits/<KIT_ID>/<channel>.
 */
#include <WiFi.h>
#include <PubSubClient.h>
#include <ArduinoJson.h>
#include <DHT.h>
#include <time.h>
#include <sys/time.h>

// ---- Fill these in -------------------------------------------------------------------------
const char* WIFI_SSID = "lab-wifi";
const char* WIFI_PASSWORD = "WIFI-PASSWORD";
const char* MQTT_HOST = "192.168.1.10";        // the platform (ask your instructor)
const uint16_t MQTT_PORT = 1883;
const char* KIT_ID = "gh-07";                   // MQTT username and client id (lower case!)
const char* KIT_SECRET = "KIT-SECRET";          // printed once by `iotlab kits add gh-07`
const char* FIRMWARE = "esp32-greenhouse/1.0.0";
const bool USE_NTP = true;                      // false: no "ts", the platform stamps the time
// --------------------------------------------------------------------------------------------

// Pins (ADC1 pins only for analog inputs: ADC2 does not work while Wi-Fi is on)
const int DHT_PIN = 4;
const int LDR_PIN = 34;
const int SOIL_PIN = 35;
const int FAN_PIN = 26;
const int PUMP_PIN = 27;
const int RELAY_ON = HIGH;                      // many relay modules are active LOW: set LOW then

// Calibration
const float LDR_FIXED_OHMS = 10000.0;           // 3.3 V - LDR - pin - 10 kOhm - GND
const float LDR_OHMS_AT_10_LUX = 15000.0;       // GL5528: 10-20 kOhm at 10 lx
const float LDR_GAMMA = 0.7;
const int SOIL_DRY_RAW = 2600;                  // probe in air
const int SOIL_WET_RAW = 1100;                  // probe in a glass of water

const unsigned long TELEMETRY_EVERY_MS = 2000;  // the DHT22 gives a new reading every 2 s at most
const unsigned long RECONNECT_EVERY_MS = 5000;

char topicTelemetry[96], topicStatus[96], topicEvents[96], topicCommands[96], topicErrors[96];

WiFiClient wifi;
PubSubClient mqtt(wifi);
DHT dht(DHT_PIN, DHT22);

uint32_t seq = 0;             // message counter: 0 after boot, +1 per message
bool fanOn = false;
bool pumpOn = false;
unsigned long lastTelemetry = 0;
unsigned long lastAttempt = 0;

// ---- Sensors ----------------------------------------------------------------------------------

float readLux() {
  float volts = analogReadMilliVolts(LDR_PIN) / 1000.0;
  if (volts <= 0.01) return 0;                  // dark (or LDR unplugged)
  if (volts >= 3.29) return 100000;
  float ldrOhms = LDR_FIXED_OHMS * (3.3 - volts) / volts;
  return 10.0 * pow(LDR_OHMS_AT_10_LUX / ldrOhms, 1.0 / LDR_GAMMA);   // approximate: calibrate
}

float readSoilPercent() {
  int raw = analogRead(SOIL_PIN);
  float percent = (SOIL_DRY_RAW - raw) * 100.0 / (SOIL_DRY_RAW - SOIL_WET_RAW);
  return constrain(percent, 0.0, 100.0);
}

// ---- Actuators --------------------------------------------------------------------------------

void setFan(bool on) {
  fanOn = on;
  digitalWrite(FAN_PIN, on ? RELAY_ON : !RELAY_ON);
}

void setPump(bool on) {
  pumpOn = on;
  digitalWrite(PUMP_PIN, on ? RELAY_ON : !RELAY_ON);
}

/** On/off from a command value: 1/0, true/false, "on"/"off". Returns false when there is none. */
bool commandOn(JsonVariantConst value, bool& on) {
  if (value.is<bool>()) {
    on = value.as<bool>();
    return true;
  }
  if (value.is<float>()) {                      // also true for integers
    on = value.as<float>() != 0;
    return true;
  }
  if (value.is<const char*>()) {
    const char* text = value.as<const char*>();
    if (!strcasecmp(text, "on") || !strcasecmp(text, "true") || !strcmp(text, "1")) on = true;
    else if (!strcasecmp(text, "off") || !strcasecmp(text, "false") || !strcmp(text, "0")) on = false;
    else return false;
    return true;
  }
  return false;                                 // missing value: do nothing
}

// ---- MQTT -------------------------------------------------------------------------------------

void onMessage(char* topic, byte* payload, unsigned int length) {
  JsonDocument doc;
  if (deserializeJson(doc, payload, length)) return;   // not JSON: ignore

  if (strcmp(topic, topicErrors) == 0) {
    // {"code":…, "severity":…, "message":…, "topic":…, "ts":…, "repeated":…, "sensor"?:…}
    Serial.printf("platform: %s (%s) %s", doc["code"] | "?", doc["severity"] | "?", doc["message"] | "");
    if ((doc["repeated"] | 0) > 0) Serial.printf(" [+%d more]", doc["repeated"] | 0);
    Serial.println();
    return;
  }
  if (strcmp(topic, topicCommands) != 0) return;

  // {"command": "fan", "value": 1 | true | "on", "id"?: "c-17"}
  const char* command = doc["command"] | "";
  bool on;
  if (!commandOn(doc["value"], on)) return;
  if (strcmp(command, "fan") == 0) setFan(on);
  else if (strcmp(command, "pump") == 0) setPump(on);
  else return;                                  // a command this kit does not know: ignore it
  Serial.printf("command: %s %s\n", command, on ? "on" : "off");

  JsonDocument ack;                             // acknowledge with an event
  ack["event"] = command;
  ack["value"] = on ? 1 : 0;
  if (doc["id"].is<const char*>()) ack["id"] = doc["id"];
  char buf[128];
  serializeJson(ack, buf, sizeof buf);
  mqtt.publish(topicEvents, buf);
}

bool connectMqtt() {
  // client id = kit id; last will: retained {"state":"offline"} on the status topic, QoS 1
  if (!mqtt.connect(KIT_ID, KIT_ID, KIT_SECRET, topicStatus, 1, true, "{\"state\":\"offline\"}")) {
    // 4 = wrong kit id or secret, 5 = not authorised, 6 = keep-alive not accepted
    Serial.printf("MQTT connect failed, state %d\n", mqtt.state());
    return false;
  }
  mqtt.subscribe(topicErrors);                  // first, so no error report is missed
  mqtt.subscribe(topicCommands);

  JsonDocument status;
  status["state"] = "online";
  status["firmware"] = FIRMWARE;
  status["ip"] = WiFi.localIP().toString();
  char buf[160];
  serializeJson(status, buf, sizeof buf);
  mqtt.publish(topicStatus, buf, true);         // retained
  Serial.println("MQTT connected");
  return true;
}

/** ms since the epoch, or 0 while the clock is not set (NTP has not answered yet). */
uint64_t epochMillis() {
  struct timeval now;
  gettimeofday(&now, nullptr);
  if (now.tv_sec < 1577836800) return 0;        // before 2020-01-01: not set
  return (uint64_t)now.tv_sec * 1000 + now.tv_usec / 1000;
}

void publishTelemetry() {
  JsonDocument doc;
  if (USE_NTP) {
    uint64_t ts = epochMillis();
    if (ts != 0) doc["ts"] = ts;                // milliseconds, UTC; left out while not set
  }
  doc["seq"] = seq++;
  JsonObject readings = doc["readings"].to<JsonObject>();
  // A failed DHT read gives NaN, which ArduinoJson writes as null: the platform drops that
  // value and tells you on the errors topic (VALUE_MISSING). The library returns its previous
  // reading when asked again within 2 s.
  readings["temperature"] = dht.readTemperature();
  readings["humidity"] = dht.readHumidity();
  readings["light"] = round(readLux());
  readings["soil_moisture"] = round(readSoilPercent() * 10) / 10.0;
  readings["fan"] = fanOn ? 1 : 0;
  readings["pump"] = pumpOn ? 1 : 0;

  char buf[256];
  size_t length = serializeJson(doc, buf, sizeof buf);
  if (!mqtt.publish(topicTelemetry, (const uint8_t*)buf, length, false)) {
    Serial.println("publish failed (payload larger than the MQTT buffer?)");
  }
}

void setup() {
  Serial.begin(115200);
  pinMode(FAN_PIN, OUTPUT);
  pinMode(PUMP_PIN, OUTPUT);
  setFan(false);
  setPump(false);
  analogReadResolution(12);
  dht.begin();

  const char* channels[] = {"telemetry", "status", "events", "commands", "errors"};
  char* topics[] = {topicTelemetry, topicStatus, topicEvents, topicCommands, topicErrors};
  for (int i = 0; i < 5; i++) snprintf(topics[i], sizeof topicTelemetry, "iotlab/v1/kits/%s/%s", KIT_ID, channels[i]);

  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  WiFi.begin(WIFI_SSID, WIFI_PASSWORD);
  Serial.printf("connecting to Wi-Fi %s", WIFI_SSID);
  while (WiFi.status() != WL_CONNECTED) {
    delay(500);
    Serial.print('.');
  }
  Serial.printf("\nWi-Fi connected, IP %s\n", WiFi.localIP().toString().c_str());
  if (USE_NTP) configTime(0, 0, "ntp.aliyun.com", "cn.pool.ntp.org", "pool.ntp.org");   // UTC

  mqtt.setServer(MQTT_HOST, MQTT_PORT);
  mqtt.setKeepAlive(30);                        // 1-300 s
  mqtt.setBufferSize(512);                      // the default 256 bytes include the topic
  mqtt.setCallback(onMessage);
}

void loop() {
  if (WiFi.status() != WL_CONNECTED) return;    // Wi-Fi reconnects by itself
  if (!mqtt.connected()) {
    if (millis() - lastAttempt < RECONNECT_EVERY_MS && lastAttempt != 0) return;
    lastAttempt = millis();
    if (!connectMqtt()) return;
  }
  mqtt.loop();
  if (millis() - lastTelemetry >= TELEMETRY_EVERY_MS) {
    lastTelemetry = millis();
    publishTelemetry();
  }
}
