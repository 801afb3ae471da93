/*
 * IoT Lab reference firmware: Arduino Uno greenhouse kit on USB, Serial Plotter format.
 *
 * The same sensors as uno-json, printed as label:value pairs:
 *   temperature:23.5,humidity:61.2,light:812,soil_moisture:43.1,fan:0,pump:0
 * Open Tools -> Serial Plotter (115200 baud) to see the curves; the gateway reads the same
 * lines. A failed DHT read prints "nan": the gateway drops that value, the rest is stored.
 * Labels have no spaces, and there is no space after the colon.
 *
 * Commands from the gateway ({"command":"fan","value":1}, also "pump") are obeyed as in
 * uno-json. Libraries: ArduinoJson 7.x, DHT sensor library (Adafruit) + Adafruit Unified Sensor.
 */
#include <ArduinoJson.h>
#include <DHT.h>

const char* KIT_ID = "gh-30";
const char* FIRMWARE = "uno-plotter/1.0.0";
const long BAUD = 115200;

const int DHT_PIN = 2;
const int LDR_PIN = A0;
const int SOIL_PIN = A1;
const int FAN_PIN = 5;
const int PUMP_PIN = 6;
const int RELAY_ON = HIGH;                      // many relay modules are active LOW: set LOW then

const float LDR_FIXED_OHMS = 10000.0;
const float LDR_OHMS_AT_10_LUX = 15000.0;
const float LDR_GAMMA = 0.7;
const int SOIL_DRY_RAW = 520;
const int SOIL_WET_RAW = 260;

const unsigned long EVERY_MS = 2000;

DHT dht(DHT_PIN, DHT22);
unsigned long lastPrint = 0;
bool fanOn = false, pumpOn = false;
char line[96];
byte lineLength = 0;

float readLux() {
  int raw = analogRead(LDR_PIN);
  if (raw <= 0) return 0;
  if (raw >= 1023) return 100000;
  float ldrOhms = LDR_FIXED_OHMS * (1023.0 - raw) / raw;
  return 10.0 * pow(LDR_OHMS_AT_10_LUX / ldrOhms, 1.0 / LDR_GAMMA);
}

float readSoilPercent() {
  float percent = (SOIL_DRY_RAW - analogRead(SOIL_PIN)) * 100.0 / (SOIL_DRY_RAW - SOIL_WET_RAW);
  return constrain(percent, 0.0, 100.0);
}

void setRelay(int pin, bool& state, bool on) {
  state = on;
  digitalWrite(pin, on ? RELAY_ON : !RELAY_ON);
}

void handleCommand(const char* text) {
  JsonDocument doc;
  if (deserializeJson(doc, text)) return;
  const char* command = doc["command"] | "";
  JsonVariantConst value = doc["value"];
  bool on;
  if (value.is<bool>()) on = value.as<bool>();
  else if (value.is<float>()) on = value.as<float>() != 0;
  else if (value.is<const char*>()) on = !strcasecmp(value.as<const char*>(), "on") || !strcasecmp(value.as<const char*>(), "true");
  else return;
  if (!strcmp(command, "fan")) setRelay(FAN_PIN, fanOn, on);
  else if (!strcmp(command, "pump")) setRelay(PUMP_PIN, pumpOn, on);
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
      lineLength = 0;
    }
  }
}

void setup() {
  Serial.begin(BAUD);
  pinMode(FAN_PIN, OUTPUT);
  pinMode(PUMP_PIN, OUTPUT);
  setRelay(FAN_PIN, fanOn, false);
  setRelay(PUMP_PIN, pumpOn, false);
  dht.begin();
  Serial.print("# kit=");                       // metadata for the gateway; the plotter ignores it
  Serial.print(KIT_ID);
  Serial.print(" fw=");
  Serial.println(FIRMWARE);
}

void loop() {
  readCommands();
  if (millis() - lastPrint < EVERY_MS) return;
  lastPrint = millis();
  Serial.print("temperature:");
  Serial.print(dht.readTemperature(), 1);      // "nan" on a failed read
  Serial.print(",humidity:");
  Serial.print(dht.readHumidity(), 1);
  Serial.print(",light:");
  Serial.print((long)(readLux() + 0.5));
  Serial.print(",soil_moisture:");
  Serial.print(readSoilPercent(), 1);
  Serial.print(",fan:");
  Serial.print(fanOn ? 1 : 0);
  Serial.print(",pump:");
  Serial.println(pumpOn ? 1 : 0);               // println ends the line
}
