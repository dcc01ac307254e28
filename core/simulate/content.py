"""What people say: CubeSat engineering chat from templates with many variants.

Templates are ``str.format`` strings whose slots (``{comp}``, ``{val}``, ``{doc}``...) are
drawn lazily from the subsystem's vocabulary, so one template yields many messages and a
slot used twice in one message keeps its value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from core.simulate.names import slug


@dataclass(frozen=True)
class Param:
    name: str
    unit: str
    low: float
    high: float
    digits: int = 1

    @property
    def key(self) -> str:
        """The slot that names this parameter in a template: ``{charge_cutoff}``."""
        return "_".join(self.name.replace("-", " ").split()).lower()

    def draw(self, rng: random.Random) -> str:
        number = rng.uniform(self.low, self.high)
        return f"{number:.{self.digits}f}" if self.digits else str(round(number))


QA = tuple[tuple[str, tuple[str, ...]], ...]  # (question, answers that fit it)


@dataclass(frozen=True)
class Subsystem:
    key: str
    label: str
    discipline: str
    channel: str
    topic: str
    components: tuple[str, ...]
    tests: tuple[str, ...]
    params: tuple[Param, ...]
    artefacts: tuple[str, ...]  # what an outgoing student hands over
    qa: QA
    statuses: tuple[str, ...] = ()
    code: tuple[str, ...] = ()


SUBSYSTEMS: dict[str, Subsystem] = {
    "adcs": Subsystem(
        "adcs",
        "ADCS",
        "aerospace engineering",
        "adcs",
        "Attitude determination and control: magnetorquers, sun sensors, IMU, detumble",
        (
            "magnetorquer",
            "sun sensor array",
            "IMU",
            "magnetometer",
            "reaction wheel",
            "B-dot controller",
            "star tracker breakout",
        ),
        (
            "Helmholtz cage run",
            "detumble sim",
            "sun sensor calibration",
            "air bearing test",
            "hardware-in-the-loop run",
        ),
        (
            Param("dipole", "A·m²", 0.05, 0.4, 2),
            Param("B-dot gain", "", 1e3, 9e4, 0),
            Param("pointing error", "°", 0.5, 12.0),
            Param("gyro bias", "°/s", 0.01, 0.3, 2),
        ),
        (
            "ADCS calibration scripts",
            "Helmholtz cage procedure",
            "detumble sim setup",
            "IMU alignment notes",
        ),
        (
            (
                "is the B-dot gain still {b_dot_gain}? the detumble sim takes forever to converge",
                (
                    "gain was bumped to {b_dot_gain} after the tumble-rate analysis, "
                    "sim converges in ~3 orbits",
                    "check the sim timestep, at 1 s it converges way slower than at 0.1 s",
                    "yes, and the slow convergence is expected with the initial 10°/s tumble",
                ),
            ),
            (
                "does the IMU frame match the body frame or is there a rotation I'm missing?",
                (
                    "the IMU is rotated 90° about z, it's in the frame conventions doc",
                    "there's a rotation, see the alignment notes: {doc}",
                ),
            ),
            (
                "which sun sensor calibration file is current? there are three in the drive",
                (
                    "use the one from the last Helmholtz cage run, "
                    "the older ones had the wrong offset",
                    "the rev {rev} one, the others are from the EDU unit",
                ),
            ),
            (
                "what dipole do we get from the magnetorquer at full duty, around {dipole} A·m²?",
                (
                    "{dipole} A·m² measured in the cage, the datasheet number is optimistic",
                    "about that, it's limited by the 5 V rail current",
                ),
            ),
            (
                "has anyone seen the magnetometer jump when the torquers fire?",
                (
                    "we blank the magnetometer for 20 ms after each torquer pulse, that's the jump",
                    "yes, it's coupling from the torquer coil, sample between pulses",
                ),
            ),
            (
                "what's the pointing requirement for the payload window again?",
                (
                    "10° for the payload, we're at {pointing_error}° in sim",
                    "it's in the requirements matrix, 10° 3-sigma",
                ),
            ),
        ),
        (
            "finished the {test}, detumble converges in {n} orbits",
            "magnetorquer coils wound for the flight unit, two of three done",
        ),
        (
            "```python\nomega = imu.read_gyro()\nm_cmd = -K_BDOT * (b_now - b_prev) / dt\n"
            "torquers.set_dipole(np.clip(m_cmd, -M_MAX, M_MAX))\n```",
        ),
    ),
    "eps": Subsystem(
        "eps",
        "Power (EPS)",
        "electrical engineering",
        "eps",
        "Electrical power: batteries, solar panels, rails, load switching",
        (
            "3.3 V rail",
            "5 V rail",
            "battery pack",
            "solar panel string",
            "INA219 monitor",
            "MPPT charger",
            "load switch",
            "burn wire circuit",
        ),
        (
            "battery cycling test",
            "solar IV sweep",
            "brownout test",
            "inrush measurement",
            "24 h soak test",
        ),
        (
            Param("bus voltage", "V", 6.8, 8.4, 2),
            Param("charge cutoff", "V", 4.1, 4.2, 2),
            Param("rail current", "mA", 80, 900, 0),
            Param("orbit-average power", "W", 1.2, 4.5),
        ),
        (
            "EPS test procedure",
            "battery charge log",
            "power budget spreadsheet",
            "solar panel IV data",
            "EPS schematic rationale notes",
        ),
        (
            (
                "is the 3.3 V rail supposed to brown out when the radio keys up?",
                (
                    "no, that's the inrush from the radio PA, add the 100 µF cap on the rail",
                    "it did that on rev B too, the fix is a soft-start on the load switch",
                ),
            ),
            (
                "what's the battery charge cutoff, {charge_cutoff} V per cell?",
                (
                    "4.2 V per cell, 8.4 V for the pack, don't go above that",
                    "4.1 V per cell for flight, we derate for cycle life",
                ),
            ),
            (
                "has anyone characterised the solar panel IV curve since the new cells arrived?",
                (
                    "we did a {test} last week, the data is in the power folder",
                    "not yet, the lamp is broken, maybe {day}",
                ),
            ),
            (
                "which INA219 address is the payload rail on, 0x40 or 0x41?",
                (
                    "payload rail is 0x41, 0x40 is the battery monitor",
                    "0x41, it's in the EPS schematic notes",
                ),
            ),
            (
                "does the load switch default on or off after a watchdog reset?",
                (
                    "off, FSW turns the loads on in the boot sequence",
                    "off, and the burn wire switch is hard-wired off until deployment",
                ),
            ),
            (
                "the {comp} reads {val} {unit} on the bench, is that expected?",
                (
                    "{val} {unit} is fine, the spec allows ±5%",
                    "that's a bit off, check the shunt resistor value on that channel",
                ),
            ),
        ),
        ("ran the {test} overnight, no brownouts", "{comp} rev {rev} boards arrived 🎉"),
        (
            "```c\nuint16_t raw = ina219_read_bus(ADDR_PAYLOAD);\nfloat volts = raw * 0.004f;\n"
            "if (volts < BROWNOUT_V) {{ eps_shed_load(LOAD_PAYLOAD); }}\n```",
        ),
    ),
    "comms": Subsystem(
        "comms",
        "Communications",
        "electrical engineering",
        "comms",
        "Radio, antennas, link budget and the ground link",
        ("UHF radio", "deployable antenna", "LNA", "packet framer", "beacon", "S-band patch"),
        (
            "range test",
            "antenna deployment test",
            "link budget review",
            "RF emissions check",
            "end-to-end packet test",
        ),
        (
            Param("link margin", "dB", 2.0, 14.0),
            Param("transmit power", "dBm", 24, 33, 0),
            Param("elevation", "°", 5, 45, 0),
            Param("baud rate", "bd", 1200, 9600, 0),
        ),
        (
            "link budget spreadsheet",
            "radio configuration notes",
            "antenna deployment procedure",
            "IARU coordination paperwork",
        ),
        (
            (
                "what's our link margin at {elevation}° elevation?",
                (
                    "about 6 dB at 10°, it's in the link budget",
                    "positive down to 5°, the link budget is here {doc}",
                ),
            ),
            (
                "are we on 437 MHz or did the IARU coordination change it?",
                (
                    "still 437.4 MHz, the coordination letter is in the drive",
                    "IARU moved us to 435.9, the radio config notes are updated",
                ),
            ),
            (
                "has anyone tested the deployable antenna burn wire timing?",
                (
                    "burn wire needs 2.5 s at 1.2 A, we tested it {n} times last week",
                    "yes, but only at room temperature, cold test is still open",
                ),
            ),
            (
                "what baud rate does the ground station expect from the beacon?",
                (
                    "9600 baud GMSK for data, the beacon is 1200 AFSK",
                    "1200 for the beacon, ground runbook has the decoder settings",
                ),
            ),
            (
                "why is the {comp} dropping packets above {n} km in the range test?",
                (
                    "that's the LNA saturating up close, try the 10 dB attenuator",
                    "check the framer's CRC, we had a bit-stuffing bug last term",
                ),
            ),
        ),
        ("{test} done, we closed the link at {n} km", "new {comp} firmware flashed"),
    ),
    "structures": Subsystem(
        "structures",
        "Structures",
        "mechanical engineering",
        "structures",
        "Chassis, rails, deployables, mass budget and vibe",
        (
            "rail",
            "side panel",
            "PCB stack standoffs",
            "deployment switch",
            "antenna hinge",
            "solar panel hinge",
        ),
        (
            "vibe test",
            "fit check",
            "rail flatness check",
            "deployment switch test",
            "mass properties measurement",
        ),
        (
            Param("mass margin", "g", 40, 320, 0),
            Param("first mode", "Hz", 110, 260, 0),
            Param("torque", "N·m", 0.3, 1.2, 2),
        ),
        (
            "vibe test fixture drawings",
            "mass budget",
            "CAD assembly notes",
            "fastener torque table",
        ),
        (
            (
                "has the rail flatness been checked against the CDS?",
                (
                    "checked last {weekday}, all four rails within spec",
                    "only the EDU chassis, flight rails are still at the machine shop",
                ),
            ),
            (
                "who has the vibe test fixture drawing?",
                ("it's in the CAD vault under fixtures, rev {rev}", "I do, I'll upload it tonight"),
            ),
            (
                "what's the mass budget margin now, {mass_margin} g?",
                (
                    "around {mass_margin} g after the battery change",
                    "less, the new harness added 40 g, mass budget is here {doc}",
                ),
            ),
            (
                "what torque should we use on the {comp} screws?",
                (
                    "{torque} N·m with Loctite 242, it's in the torque table",
                    "M2.5 screws get {torque} N·m, don't go higher on the standoffs",
                ),
            ),
            (
                "does the {comp} clear the antenna hinge in the rev {rev} CAD?",
                (
                    "rev {rev} clears by 0.8 mm, tight but fine",
                    "no, it interferes, we moved the hinge in the next rev",
                ),
            ),
        ),
        ("fit check of the {comp} done, looks good", "machined the new {comp} today"),
    ),
    "thermal": Subsystem(
        "thermal",
        "Thermal",
        "mechanical engineering",
        "thermal",
        "Thermal model, heaters, TVAC",
        ("battery heater", "thermistor", "kapton heater", "radiator panel", "MLI blanket"),
        ("TVAC run", "thermal balance test", "heater control test", "thermal model correlation"),
        (
            Param("battery min temp", "°C", -10, 8, 0),
            Param("heater power", "W", 0.3, 2.0),
            Param("emissivity", "", 0.7, 0.9, 2),
        ),
        ("thermal model files", "TVAC test procedure", "heater control logic notes"),
        (
            (
                "what did the TVAC run show for the battery min temp?",
                (
                    "battery bottomed out at {battery_min_temp} °C, "
                    "the heater kept it above the limit",
                    "about {battery_min_temp} °C at the cold plateau, report is here {doc}",
                ),
            ),
            (
                "are we using kapton heaters on the battery pack or resistors?",
                (
                    "kapton heaters, {heater_power} W each, switched by the EPS",
                    "resistors on the EDU, kapton on flight",
                ),
            ),
            (
                "what emissivity are we assuming for the side panels?",
                ("{emissivity} for the anodised panels", "0.85, from the coating datasheet"),
            ),
            (
                "is the {comp} thermistor on the right ADC channel?",
                (
                    "yes, channel 3 since rev {rev}",
                    "no! it's swapped with the radio one, fixed in rev {rev}",
                ),
            ),
            (
                "when is the chamber booked for the next {test}?",
                ("week {n}, sign up in the sheet", "{day}, but only for 48 h"),
            ),
        ),
        ("TVAC cycle {n} complete, no anomalies", "thermal model correlated within 3 °C"),
    ),
    "fsw": Subsystem(
        "fsw",
        "Flight Software",
        "computer science",
        "flight-software",
        "Flight software: scheduler, drivers, commands, telemetry",
        (
            "scheduler",
            "watchdog",
            "command parser",
            "telemetry encoder",
            "I2C driver",
            "bootloader",
            "file system",
        ),
        ("hardware-in-the-loop run", "24 h burn-in", "unit tests", "flat-sat test", "code review"),
        (
            Param("watchdog timeout", "s", 2, 30, 0),
            Param("task period", "ms", 50, 1000, 0),
            Param("stack size", "KB", 4, 32, 0),
        ),
        (
            "flight software build notes",
            "command dictionary",
            "flat-sat setup guide",
            "boot sequence rationale",
        ),
        (
            (
                "why does the watchdog reset the OBC after {watchdog_timeout} s?",
                (
                    "the watchdog kick moved into the idle task, pull main",
                    "something blocks longer than the timeout, probably the I2C driver",
                ),
            ),
            (
                "which branch is flight-ready, main or develop?",
                (
                    "main is flight-ready, develop has the new file system",
                    "main, and only tagged releases go on the flight unit",
                ),
            ),
            (
                "anyone seen this in the scheduler after the last merge?",
                (
                    "that's the stack overflowing, bump the task stack to {stack_size} KB",
                    "yes, revert the priority change from PR #{pr}",
                ),
            ),
            (
                "how do I flash the OBC from the lab laptop? the usual script errors out",
                (
                    "run `make flash PORT=/dev/ttyACM0`, the old script assumed ttyUSB0",
                    "the build notes have it: {doc}",
                ),
            ),
            (
                "is the {comp} supposed to block on I2C timeouts?",
                (
                    "no, it should time out after 10 ms and log a fault",
                    "it shouldn't, that's a bug, open an issue",
                ),
            ),
        ),
        ("merged the {comp} refactor, PR #{pr}", "{test} passed on the flat-sat"),
        (
            "```\nHardFault at 0x0800{hex4}\n  scheduler_tick+0x4c\n  vTaskSwitchContext+0x18\n```",
            "```c\nwhile (!i2c_ready(bus)) {{\n"
            "    if (timeout_elapsed(t0, 10)) return ERR_TIMEOUT;\n}}\n```",
            "```python\ndef handle_command(packet: bytes) -> None:\n    opcode = packet[0]\n"
            "    HANDLERS.get(opcode, reject)(packet[1:])\n```",
        ),
    ),
    "payload": Subsystem(
        "payload",
        "Payload",
        "physics",
        "payload",
        "Science payload: camera, radiation sensor, data products",
        ("camera", "radiation sensor", "payload MCU", "image compressor", "lens"),
        (
            "image quality test",
            "dark frame calibration",
            "radiation source test",
            "payload-bus interface test",
        ),
        (
            Param("duty cycle", "%", 5, 40, 0),
            Param("exposure", "ms", 1, 50, 0),
            Param("image size", "KB", 40, 600, 0),
        ),
        ("payload operations guide", "camera calibration data", "science requirements doc"),
        (
            (
                "is the camera exposure fixed or auto in flight mode?",
                (
                    "fixed at {exposure} ms, auto exposure hunts too much in sunlight",
                    "auto, with a cap, see the payload ops guide",
                ),
            ),
            (
                "what's the payload duty cycle in the power budget, {duty_cycle}%?",
                ("{duty_cycle}% in the nominal mode", "lower, power cut it to 10% last month"),
            ),
            (
                "how big is a compressed image, around {image_size} KB?",
                (
                    "about {image_size} KB at quality 80",
                    "depends on the scene, {image_size} KB on average",
                ),
            ),
            (
                "who has the dark frames from the last calibration?",
                ("they're in the payload drive, folder cal-{n}", "I have them, uploading now"),
            ),
        ),
        ("{test} looks good, images are sharp", "payload MCU firmware v0.{n} flashed"),
    ),
    "ground": Subsystem(
        "ground",
        "Ground Station",
        "computer engineering",
        "ground-station",
        "Ground station: rotator, SDR, pass scheduling, mission ops",
        ("rotator", "SDR", "pass scheduler", "Yagi antenna", "decoder"),
        ("pass rehearsal", "rotator calibration", "decoder regression test"),
        (Param("pass duration", "min", 4, 12, 0), Param("max elevation", "°", 10, 85, 0)),
        ("ground station runbook", "pass scheduling scripts", "rotator calibration notes"),
        (
            (
                "is the rotator calibrated after the move?",
                (
                    "yes, calibrated on {weekday}, the offset is in the runbook",
                    "not yet, azimuth is off by a few degrees",
                ),
            ),
            (
                "who's got the TLEs for the pass tonight?",
                (
                    "TLEs are pulled automatically every 6 h now",
                    "pass scheduler grabs them, check the logs if it failed",
                ),
            ),
            (
                "does the decoder handle the new beacon format?",
                ("since PR #{pr}, yes", "not yet, it's on my list for {day}"),
            ),
            (
                "what's the max elevation for the {n} pm pass?",
                ("{max_elevation}°, good pass", "only {max_elevation}°, probably not worth it"),
            ),
        ),
        ("{test} went well, {n} packets decoded", "rotator fixed, it was the limit switch"),
    ),
    "integration": Subsystem(
        "integration",
        "Systems Integration",
        "systems engineering",
        "integration",
        "Systems engineering: ICDs, requirements, flat-sat and integration schedule",
        ("harness", "flat-sat", "ICD", "requirements matrix", "interface connector"),
        (
            "flat-sat integration",
            "fit check",
            "end-to-end test",
            "CDR dry run",
            "requirements review",
        ),
        (Param("mass", "g", 1100, 1330, 0), Param("harness length", "mm", 80, 240, 0)),
        (
            "integration schedule",
            "ICD spreadsheet",
            "requirements verification matrix",
            "harness drawings",
        ),
        (
            (
                "is the harness drawing rev {rev} final?",
                (
                    "rev {rev} is final, the pinout change is in the ICD",
                    "almost, waiting on the EPS connector change",
                ),
            ),
            (
                "has anyone updated the ICD for the {comp} connector?",
                (
                    "ICD is updated, the diff is in the change log",
                    "not yet, the latest is here {doc}",
                ),
            ),
            (
                "which requirements are still unverified for CDR?",
                ("{n} left, mostly thermal", "check the verification matrix: {doc}"),
            ),
            (
                "when is everyone's hardware due for the flat-sat?",
                ("{day}, per the integration schedule", "end of the month"),
            ),
        ),
        ("flat-sat has {n} boards integrated now", "ICD rev {rev} released"),
    ),
    "kit": Subsystem(
        "kit",
        "PROVES Kit",
        "computer engineering",
        "proves-kit",
        "The shared PROVES flight kit every mission builds on",
        (
            "kit flight controller",
            "kit battery board",
            "kit radio board",
            "kit chassis",
            "CircuitPython firmware",
        ),
        ("kit regression test", "kit bring-up", "kit release test"),
        (Param("firmware version", "", 1.0, 2.4), Param("board current", "mA", 60, 300, 0)),
        ("kit release checklist", "kit assembly guide", "kit firmware changelog"),
        (
            (
                "which kit firmware release should new teams start from?",
                (
                    "the latest tagged release, not main",
                    "v{n}.{rev_num}, the changelog explains why",
                ),
            ),
            (
                "is the kit battery board rev {rev} compatible with the old chassis?",
                ("rev {rev} fits, you need the longer standoffs", "no, use the rev {rev} chassis"),
            ),
            (
                "does the kit radio board need the new bootloader?",
                (
                    "yes, flash the bootloader first, the guide has the steps",
                    "only for firmware 2.x",
                ),
            ),
        ),
        ("kit release {n}.{rev_num} tagged", "kit bring-up guide updated"),
    ),
}

GENERIC_QA: QA = (
    (
        "has anyone run the {test} on the {comp} yet?",
        (
            "I ran it last {weekday}, results are in the team drive",
            "not yet, we're blocked on the {comp}",
            "yes, procedure and results are here {doc}",
        ),
    ),
    (
        "what {param} are we assuming for the {comp}? "
        "I have {val} {unit} in my notes but that seems off",
        (
            "{val} {unit} is right, the datasheet rounds it",
            "it changed at the last review, check {doc}",
        ),
    ),
    (
        "is the {comp} rev {rev} board the one on the bench or the old one?",
        (
            "the bench one is rev {rev}, the old one is in the grey bin",
            "old one, rev {rev} is still at the fab",
        ),
    ),
    (
        "where do we keep the latest {thing}?",
        ("it's here {doc}", "team drive, top folder", "pinned in this channel"),
    ),
    (
        "quick q: does the {comp} need to be powered during the {test}?",
        ("yes, otherwise it won't enumerate", "no, unpowered is fine for the {test}"),
    ),
    (
        "are we still targeting {day} for the {test}?",
        ("{day} still, unless the {comp} slips again", "no, it moved a week"),
    ),
    (
        "who has the lab key this weekend? need to finish the {test}",
        ("I do, text me", "the front desk has the spare"),
    ),
    (
        "does the {comp} talk I2C or SPI on rev {rev}?",
        ("SPI on rev {rev}, I2C was the old board", "I2C, address is in the ICD"),
    ),
    (
        "can someone review my {comp} changes before {day}?",
        ("I can look at it tonight", "sure, send the PR link"),
    ),
    (
        "is there a checklist for the {test} somewhere?",
        ("the procedure is in {doc}, section {n}", "not really, we should write one"),
    ),
    (
        "do we have spare {comp}s or do I need to order more?",
        ("there are {n} spares in the grey bin", "order more, we used the last one"),
    ),
    (
        "how long does the {test} take end to end?",
        ("about {n} hours including setup", "a full day if nothing breaks"),
    ),
    (
        "should the {comp} go on the flat-sat before or after the {test}?",
        ("after, otherwise we risk the {comp}", "before, the {test} needs the full stack"),
    ),
    (
        "did the {comp} pass the {test} last time or did we waive it?",
        ("we waived it for the EDU, the flight unit still needs it", "it passed, report in {doc}"),
    ),
    (
        "what's the status of the {comp}? {sub} is asking",
        ("tell them next week", "ask in #integration, they changed that last week"),
    ),
)
FILLER_ANSWERS = (
    "I can look at it tonight",
    "not sure, ask in #integration",
    "I'll check when I'm in the lab",
    "good question, I don't know either",
)

GENERIC_STATUSES = (
    "finished the {test} on the {comp}, results look nominal",
    "pushed the {comp} fixes, PR #{pr} needs a review",
    "{comp} rev {rev} boards arrived 🎉",
    "I'll be in the lab {weekday} afternoon if anyone needs help with the {comp}",
    "the {test} is scheduled for {day} at {time}",
    "heads up: the {comp} on the bench is the flight unit, please don't touch it",
    "updated the {thing}, let me know if something's off",
    "blocked on the {comp} until {sub} sends the new numbers",
    "spent {n} hours debugging the {comp}, it was a cold solder joint 🙃",
    "ordered {n} more {comp}s, should arrive {day}",
)

SCOPE_CHURN = (
    "wait, are we still doing the {comp} or did that get cut?",
    "scope changed again: the {comp} moves to {sub} now?",
    "who owns the {test} now? the issue got reassigned twice",
    "reopening the {comp} task, the requirements changed",
    "I thought we finished the {comp} last week, why is it open again?",
    "do we have a definition of done for the {test}? it keeps growing",
    "the {comp} task has no owner again",
    "so is the {test} in scope for this term or not?",
)

COORDINATION = (
    "when will the {comp} ICD be final? we're blocked on the harness",
    "can you confirm the {comp} connector pinout? ours says J{n}",
    "we need the {param} numbers for the {comp} before {day}",
    "is the {comp} interface still the one in rev {rev} of the ICD?",
    "can we sync on the {comp} integration {weekday}? our side changed again",
    "our {test} depends on your {comp}, any update?",
)

DOC_SHARES = (
    "{doc_title}: {doc}",
    "I wrote up the {test} procedure here {doc}, please review before {day}",
    "pinning this so it stops getting lost: {doc}",
    "updated the {thing}: {doc}",
    "notes from today's meeting {doc}",
    "design rationale for the {comp} is in {doc}",
    "for anyone new: start with {doc}",
)

SMALL_TALK = (
    "anyone want boba after lab?",
    "who left the soldering iron on 😅",
    "the lab printer is out of toner again",
    "good luck on midterms everyone",
    "pizza in the lab at 6 🍕",
    "is anyone else's laptop dying from the CAD files",
    "happy friday!",
    "the coffee machine is fixed ☕",
    "who took the good multimeter",
    "the parking structure is full again",
    "great work today team 🚀",
    "does anyone have a USB-C to micro cable",
    "lab is closed Monday for the holiday",
    "I brought donuts, they're by the ESD mat (not ON the ESD mat)",
    "reminder to log your lab hours",
    "who's coming to the hackathon this weekend?",
    "that launch stream last night was amazing",
    "rain again 🌧️",
    "someone's lunch has been in the fridge since August",
    "lol",
    "same",
    "+1",
    "😂",
    "nice!",
    "congrats!!",
    "on my way",
    "running 10 min late",
)

ANNOUNCEMENTS = (
    "Reminder: CDR dry run on {weekday} at {time} in {room}. Slides due the day before.",
    "@everyone TVAC chamber is booked for week {n}. Coordinate with thermal.",
    "Please log your lab hours by {day}; the grant report is due.",
    "NASA CSLI paperwork is due {day}. I need everyone's subsystem summaries.",
    "Great job on the flat-sat demo today. Next milestone: integration review on {weekday}.",
    "@everyone safety training refresher on {weekday} at {time}, required for lab access.",
    "The clean room is closed {day} for maintenance.",
    "Weekly design review moves to {weekday} at {time} this week.",
    "Our mission passed the design review. Thank you all for the hard work. 🛰️",
    "Reminder: no flight hardware leaves the lab without a sign-out.",
    "Integration milestone: all subsystems on the flat-sat by {day}.",
    "Please update your task status before Friday's sync.",
)

HANDOFFS = (
    "handing over the {thing} to {mention} before I graduate, docs at {doc}",
    "{mention} I'm graduating in December, everything for the {thing} is in {doc}. "
    "ping me before the 15th with questions",
    "handoff: {mention} now owns the {thing}. I wrote it all up here {doc}",
    "last weeks for me 😢 {mention} is taking the {thing}, the doc is {doc}",
    "{mention} here's the {thing} writeup {doc}, let's do a walkthrough on {weekday}",
)

HANDOFFS_NO_LINKS = (
    "{mention} you're taking over the {thing} after I graduate, I'll show you in the lab",
    "handing the {thing} to {mention}, it's mostly in my head, ask me anything before I leave",
    "{mention} the {thing} is yours now, I'll walk you through it on {weekday}",
)

THANKS_NAMED = (
    "thanks {first}!",
    "thank you {first}, that worked",
    "ty {first} 🙏",
    "got it, thanks {first}",
    "perfect, thanks {first}",
    "{first} you're a lifesaver",
    "thanks {first}, that fixed it",
    "makes sense, thanks {first}",
)
THANKS_PLAIN = (
    "thanks!",
    "that worked 👍",
    "ah ok, makes sense",
    "perfect, thank you",
    "got it",
    "thank you!",
    "ahh that was it, thanks",
)
HANDOFF_THANKS = (
    "thanks {first}, I'll read it tonight",
    "got it {first}, thanks for writing it up",
    "thank you {first}! will ping you with questions",
    "thanks, I'll go through it before {day}",
)

FOLLOW_UPS = (
    "also, does that apply to the flight unit too?",
    "ok and where's the latest version?",
    "follow-up: should I update the {thing}?",
    "and the {comp}?",
)

DISCUSSION = (
    "I'd rather keep the {comp} as is until after the {test}",
    "agree, but we need {sub} to sign off",
    "I can run the {test} again on {weekday}",
    "numbers from last run: {val} {unit}",
    "that matches what I saw",
    "let's decide at the next sync",
    "I updated the {thing} with this",
    "could be the {comp2} instead, it changed in rev {rev}",
)

THREAD_TITLES = (
    "{comp} {test} results",
    "{label} design review",
    "rev {rev} {comp} bring-up",
    "{test} plan",
    "{comp} anomaly",
    "{comp} vs {comp2} trade study",
    "{comp} rev {rev} issues",
    "{test} debrief",
    "{comp} requirements",
    "{thing} review",
    "{comp} failure on the bench",
    "{test} on {weekday}",
    "{comp} interface questions",
    "{param} of the {comp}",
)

WELCOMES = (
    "welcome {mention}! 👋",
    "welcome to the lab {mention}!",
    "hi {mention}, welcome! check the pinned messages to get started",
)

BOT_GITHUB = (
    "[{org}/{repo}] {n} new commits pushed to `main` by {login}\n`{sha}` {summary}",
    "[{org}/{repo}] Pull request opened: #{pr} {summary}",
    "[{org}/{repo}] Pull request merged: #{pr} {summary}",
    "[{org}/{repo}] Issue closed: #{pr} {summary}",
    "[{org}/{repo}] CI passed on `main` ({sha})",
    "[{org}/{repo}] CI failed on `{branch}` ({sha})",
)
BOT_JIRA = (
    "{key}-{pr} moved to Done by {login}: {summary}",
    "{key}-{pr} created: {summary}",
    "{key}-{pr} assigned to {login}",
    "{key}-{pr} moved to In Progress: {summary}",
)
BOT_CI = (
    "PROVES Kit nightly build #{pr} passed ✅",
    "PROVES Kit nightly build #{pr} failed ❌ ({summary})",
    "Integration milestone reminder: flat-sat review on {weekday}",
    "New PROVES Kit release candidate v{n}.{rev_num}.0 is available",
)
BOT_SUMMARIES = (
    "Fix {comp} timeout",
    "Add {comp} driver",
    "Update {thing}",
    "Refactor {comp} config",
    "Bump {comp} calibration",
    "Document {test} procedure",
    "Handle {comp} fault",
)

# Slots {weekday} (for "last Tuesday", "on Thursday") and {day} (for "by tomorrow").
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WHEN = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "tomorrow",
    "next week",
    "the 14th",
    "the 21st",
    "Friday morning",
)
TIMES = ("9am", "10:30", "noon", "1pm", "3pm", "4:30", "6pm", "7pm")
ROOMS = ("the clean room", "Bldg 17 lab", "the conference room", "the high bay", "Zoom")
BRANCHES = ("develop", "feature/fdir", "fix/i2c-timeouts", "release/1.2", "feature/beacon-v2")
ATTACHMENT_KINDS = (
    ("png", 40_000, 900_000),
    ("jpg", 300_000, 4_500_000),
    ("pdf", 90_000, 6_000_000),
    ("xlsx", 20_000, 400_000),
    ("csv", 2_000, 300_000),
    ("log", 1_000, 90_000),
)
ATTACHMENT_STEMS = (
    "{comp}_rev{rev}",
    "{test}_results",
    "IMG_{n4}",
    "scope_capture_{n}",
    "{comp}_bench",
    "tvac_run{n}",
    "{thing}",
)


@dataclass(frozen=True)
class DocContext:
    """Where a team keeps its documents."""

    org: str
    repo: str
    domain: str
    tracker: str  # github | jira
    space: str


_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _title_words(title: str) -> list[str]:
    return [w for w in (slug(part) for part in title.split()) if w] or ["notes"]


def doc_link(rng: random.Random, ctx: DocContext, title: str) -> str:
    """A realistic documentation URL: Google Docs/Sheets, wiki, Confluence, Notion or PDF."""
    draw = rng.random()
    words = _title_words(title)
    if draw < 0.32:
        doc_id = "1" + "".join(rng.choice(_B64) for _ in range(43))
        return f"https://docs.google.com/document/d/{doc_id}/edit"
    if draw < 0.42:
        doc_id = "1" + "".join(rng.choice(_B64) for _ in range(43))
        return f"https://docs.google.com/spreadsheets/d/{doc_id}/edit#gid=0"
    if draw < 0.62:
        page = "-".join(w.capitalize() for w in words)
        if ctx.tracker == "jira":
            number = rng.randint(100_000_000, 3_999_999_999)
            plus = "+".join(w.capitalize() for w in words)
            return f"https://{ctx.org}.atlassian.net/wiki/spaces/{ctx.space}/pages/{number}/{plus}"
        return f"https://github.com/{ctx.org}/{ctx.repo}/wiki/{page}"
    if draw < 0.8:
        page = "-".join(w.capitalize() for w in words)
        return f"https://www.notion.so/{ctx.org}/{page}-{rng.getrandbits(128):032x}"
    return f"https://{ctx.domain}/cubesat/docs/{'_'.join(words)}_rev{rng.choice('ABCD')}.pdf"


class Slots(dict[str, str]):
    """Slot values drawn on first use: ``template.format_map(Slots(...))``."""

    def __init__(
        self, rng: random.Random, subsystem: Subsystem, ctx: DocContext | None, **fixed: str
    ) -> None:
        super().__init__(fixed)
        self.rng = rng
        self.subsystem = subsystem
        self.ctx = ctx
        self.param: Param | None = None

    def reply(self, rng: random.Random, ctx: DocContext | None) -> Slots:
        """Slots for an answer: the question's values (its component, test, numbers, day)
        carry over, so the answer talks about what was asked; its own link is new."""
        values = {key: value for key, value in self.items() if key != "doc"}
        slots = Slots(rng, self.subsystem, ctx, **values)
        slots.param = self.param
        return slots

    def _param(self) -> Param:
        if self.param is None:
            self.param = self.rng.choice(self.subsystem.params)
        return self.param

    def __missing__(self, key: str) -> str:
        rng, sub = self.rng, self.subsystem
        value: str
        if key == "comp" or key == "comp2":
            value = rng.choice(sub.components)
        elif key == "test":
            value = rng.choice(sub.tests)
        elif key == "param":
            value = self._param().name
        elif key == "unit":
            value = self._param().unit
        elif key == "val":
            value = self._param().draw(rng)
        elif key == "rev":
            value = rng.choice("ABCDE")
        elif key == "rev_num":
            value = str(rng.randint(0, 9))
        elif key == "n":
            value = str(rng.randint(2, 9))
        elif key == "n4":
            value = str(rng.randint(1000, 9999))
        elif key == "pr":
            value = str(rng.randint(12, 480))
        elif key == "hex4":
            value = f"{rng.getrandbits(16):04X}"
        elif key == "day":
            value = rng.choice(WHEN)
        elif key == "weekday":
            value = rng.choice(WEEKDAYS)
        elif key == "time":
            value = rng.choice(TIMES)
        elif key == "room":
            value = rng.choice(ROOMS)
        elif key == "thing" or key == "doc_title":
            value = rng.choice(sub.artefacts)
        elif key == "sub":
            value = rng.choice(_LABELS)
        elif key == "label":
            value = sub.label
        elif key == "branch":
            value = rng.choice(BRANCHES)
        elif key == "doc":
            title = self["doc_title"] if "doc_title" in self else self["thing"]
            value = doc_link(rng, self.ctx, title) if self.ctx else title
        elif key in _PARAMS:
            value = _PARAMS[key].draw(rng)
        else:
            raise KeyError(key)
        self[key] = value
        return value


_LABELS = tuple(s.label for s in SUBSYSTEMS.values())
_PARAMS = {param.key: param for s in SUBSYSTEMS.values() for param in s.params}


def _without_links(templates: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(t for t in templates if "{doc}" not in t)


@dataclass(frozen=True)
class Phrasebook:
    """The templates for one subsystem, with or without documentation links."""

    qa: QA
    statuses: tuple[str, ...]
    code: tuple[str, ...]


def phrasebook(subsystem: Subsystem, links: bool) -> Phrasebook:
    # Subsystem-specific pairs are listed twice so they outweigh the generic ones.
    qa = subsystem.qa * 2 + GENERIC_QA
    statuses = subsystem.statuses * 2 + GENERIC_STATUSES
    if not links:
        qa = tuple(
            (question, _without_links(answers) or FILLER_ANSWERS) for question, answers in qa
        )
        statuses = _without_links(statuses)
    return Phrasebook(qa, statuses, subsystem.code)


def render(
    template: str, rng: random.Random, subsystem: Subsystem, ctx: DocContext | None, **fixed: str
) -> str:
    return template.format_map(Slots(rng, subsystem, ctx, **fixed))


def attachment_name(rng: random.Random, subsystem: Subsystem) -> tuple[str, int]:
    ext, low, high = rng.choice(ATTACHMENT_KINDS)
    stem = render(
        rng.choice(ATTACHMENT_STEMS), rng, subsystem, None, n4=str(rng.randint(1000, 9999))
    )
    stem = "_".join(_title_words(stem.replace("_", " ")))
    return f"{stem}.{ext}", rng.randint(low, high)
