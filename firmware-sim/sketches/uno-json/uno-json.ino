/*
 * IoT Lab reference firmware: Arduino Uno greenhouse kit on USB, JSON lines.
 *
 * Prints "# kit=<id> fw=<version>" at boot, then every 2 s one JSON object per line:
 *   {"seq":12,"temperature":23.5,"humidity":61.2,"light":812,"soil_moisture":43.1,"fan":0,"pump":0,"led":0}
 * and reads commands from the gateway, one JSON object per line:
 *   {"command":"led","value":1}     (also "fan", "pump"; value 1/0, true/false, "on"/"off")
 *
 * Libraries: ArduinoJson 7.x (Benoit Blanchon), DHT sensor library (Adafruit) + Adafruit
 * Unified Sensor. Board: Arduino AVR Boards -> "Arduino Uno". Serial: 115200 baud (set the
 * gateway to the same). See ../README.md for wiring.
 */
#include <ArduinoJson.h>
#include <DHT.h>

const char* KIT_ID = "gh-29";                   // the kit id registered on the platform
const char* FIRMWARE = "uno-json/1.0.0";
const long BAUD = 115200;

const int DHT_PIN = 2;
const int LDR_PIN = A0;
const int SOIL_PIN = A1;
const int FAN_PIN = 5;
const int PUMP_PIN = 6;
const int LED_PIN = LED_BUILTIN;                // pin 13
const int RELAY_ON = HIGH;                      // many relay modules are active LOW: set LOW then

const float LDR_FIXED_OHMS = 10000.0;           // 5 V - LDR - A0 - 10 kOhm - GND
const float LDR_OHMS_AT_10_LUX = 15000.0;
const float LDR_GAMMA = 0.7;
const int SOIL_DRY_RAW = 520;                   // probe in air
const int SOIL_WET_RAW = 260;                   // probe in water

const unsigned long EVERY_MS = 2000;            // the DHT22 gives a new reading every 2 s at most

DHT dht(DHT_PIN, DHT22);
unsigned long seq = 0;
unsigned long lastPrint = 0;
bool fanOn = false, pumpOn = false, ledOn = false;
char line[96];                                  // one command line from the gateway
byte lineLength = 0;

float readLux() {
  int raw = analogRead(LDR_PIN);
  if (raw <= 0) return 0;
  if (raw >= 1023) return 100000;
  float ldrOhms = LDR_FIXED_OHMS * (1023.0 - raw) / raw;
  return 10.0 * pow(LDR_OHMS_AT_10_LUX / ldrOhms, 1.0 / LDR_GAMMA);   // approximate: calibrate
}

float readSoilPercent() {
  float percent = (SOIL_DRY_RAW - analogRead(SOIL_PIN)) * 100.0 / (SOIL_DRY_RAW - SOIL_WET_RAW);
  return constrain(percent, 0.0, 100.0);
}

void setOutput(int pin, bool& state, bool on, bool relay) {
  state = on;
  digitalWrite(pin, relay ? (on ? RELAY_ON : !RELAY_ON) : (on ? HIGH : LOW));
}

bool commandOn(JsonVariantConst value, bool& on) {
  if (value.is<bool>()) on = value.as<bool>();
  else if (value.is<float>()) on = value.as<float>() != 0;
  else if (value.is<const char*>()) {
    const char* text = value.as<const char*>();
    if (!strcasecmp(text, "on") || !strcasecmp(text, "true") || !strcmp(text, "1")) on = true;
    else if (!strcasecmp(text, "off") || !strcasecmp(text, "false") || !strcmp(text, "0")) on = false;
    else return false;
  } else return false;                          // missing value: do nothing
  return true;
}

void handleCommand(const char* text) {
  JsonDocument doc;
  if (deserializeJson(doc, text)) return;       // not JSON: ignore
  const char* command = doc["command"] | "";
  bool on;
  if (!commandOn(doc["value"], on)) return;
  if (!strcmp(command, "led")) setOutput(LED_PIN, ledOn, on, false);
  else if (!strcmp(command, "fan")) setOutput(FAN_PIN, fanOn, on, true);
  else if (!strcmp(command, "pump")) setOutput(PUMP_PIN, pumpOn, on, true);
  // anything else: a command this kit does not know, ignored
}

void readCommands() {
  while (Serial.available() > 0) {
    char c = Serial.read();
    if (c == '\n' || c == '\r') {
      if (lineLength > 0) {
        line[lineLength] = '\0';
        handleCommand(line);
      }
      lineLength = 0;
    } else if (lineLength < sizeof line - 1) {
      line[lineLength++] = c;
    } else {
      lineLength = 0;                           // too long: drop it
    }
  }
}

void printReadings() {
  JsonDocument doc;
  doc["seq"] = seq++;                           // the counter, not a sensor
  // NaN (failed DHT read) is written as null: the gateway drops it with VALUE_MISSING
  doc["temperature"] = dht.readTemperature();
  doc["humidity"] = dht.readHumidity();
  doc["light"] = (long)(readLux() + 0.5);
  doc["soil_moisture"] = round(readSoilPercent() * 10) / 10.0;
  doc["fan"] = fanOn ? 1 : 0;
  doc["pump"] = pumpOn ? 1 : 0;
  doc["led"] = ledOn ? 1 : 0;
  serializeJson(doc, Serial);
  Serial.println();                             // one object per line
}

void setup() {
  Serial.begin(BAUD);
  pinMode(FAN_PIN, OUTPUT);
  pinMode(PUMP_PIN, OUTPUT);
  pinMode(LED_PIN, OUTPUT);
  setOutput(FAN_PIN, fanOn, false, true);
  setOutput(PUMP_PIN, pumpOn, false, true);
  setOutput(LED_PIN, ledOn, false, false);
  dht.begin();
  Serial.print("# kit=");                       // metadata line: tells the gateway who we are
  Serial.print(KIT_ID);
  Serial.print(" fw=");
  Serial.println(FIRMWARE);
}

void loop() {
  readCommands();
  if (millis() - lastPrint >= EVERY_MS) {
    lastPrint = millis();
    printReadings();
  }
}
