"""A third-party vcfx plugin: ring modulation for a robot voice, and a ``vcfx robot-info`` command."""

import click
import numpy as np

import vcfx


class Robot(vcfx.Effect):
    """Multiply the voice by a sine carrier (ring modulation)."""

    name = "robot"
    summary = "Ring-modulate the voice for a robot sound"
    params = (
        vcfx.Param("carrier_hz", float, 50.0, "Carrier frequency", unit="Hz", low=1.0, high=2000.0),
        vcfx.Param("mix", float, 1.0, "Share of the modulated signal", low=0.0, high=1.0),
    )

    def process_waveform(self, audio, ctx):
        t = np.arange(audio.frames) / audio.sample_rate
        carrier = np.sin(2 * np.pi * self.carrier_hz * t)
        out = (1 - self.mix) * audio.samples + self.mix * audio.samples * carrier
        return audio.replace(samples=out)


@vcfx.hookimpl
def register_effects(register):
    register(Robot)


@vcfx.hookimpl
def register_commands(cli):
    @cli.command(name="robot-info")
    @click.option("--carrier-hz", type=float, default=50.0, show_default=True, help="Carrier frequency.")
    def robot_info(carrier_hz):
        """Show the robot effect's spec and what it does."""
        robot = Robot(carrier_hz=carrier_hz)  # an out-of-range value is vcfx's ParameterError
        click.echo(f"{robot.to_spec()}: {Robot.summary}")
